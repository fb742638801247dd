/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim of the fault tests: read() of one file fails with EIO at a given offset, so that
 * SendFile meets a read error in the middle of a file without FUSE or a faulty disk.
 *
 *   AZR_FAULT_EIO_FILE=PATH    the file (matched by device and inode, whatever path opened it)
 *   AZR_FAULT_EIO_AFTER=N      reads return data up to offset N, then fail with EIO
 *   AZR_FAULT_EIO_TIMES=K      how many reads fail (default 1); after that the file reads normally
 *
 * It wraps read() for the whole process, so its state is necessarily process-wide. It is built
 * without sanitizers; under gcc's ASan the test sets ASAN_OPTIONS=verify_asan_link_order=0. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*read_fn)(int fd, void *buf, size_t count);

static read_fn real_read;
static dev_t target_dev;
static ino_t target_ino;
static off_t fail_at;
static atomic_int failures_left;

__attribute__((constructor)) static void eio_init(void) {
  void *sym = dlsym(RTLD_NEXT, "read");
  memcpy(&real_read, &sym, sizeof real_read); /* object to function pointer without a cast warning */
  const char *path = getenv("AZR_FAULT_EIO_FILE");
  const char *after = getenv("AZR_FAULT_EIO_AFTER");
  const char *times = getenv("AZR_FAULT_EIO_TIMES");
  struct stat st;
  if (!path || !after || stat(path, &st) != 0) return; /* inactive */
  target_dev = st.st_dev;
  target_ino = st.st_ino;
  fail_at = (off_t)strtoll(after, NULL, 10);
  atomic_store(&failures_left, times ? atoi(times) : 1);
}

ssize_t read(int fd, void *buf, size_t count) {
  if (!real_read) {
    errno = ENOSYS;
    return -1;
  }
  struct stat st;
  if (atomic_load(&failures_left) > 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == target_dev &&
      st.st_ino == target_ino) {
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (pos >= fail_at) {
      atomic_fetch_sub(&failures_left, 1);
      errno = EIO;
      return -1;
    }
    /* Stop the read right at the failure offset, so the error comes at exactly that many bytes. */
    if (pos >= 0 && (off_t)count > fail_at - pos) count = (size_t)(fail_at - pos);
  }
  return real_read(fd, buf, count);
}

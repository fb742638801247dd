/* SPDX-License-Identifier: MIT */
/* Allocator handle: every allocation of the library goes through one of these (one per listener or
 * emulator, default libc), so tests can count and fail allocations without process-wide hooks. */
#ifndef AZR_UTIL_MEM_H
#define AZR_UTIL_MEM_H

#include <stddef.h>

struct azr__mem {
  void *(*malloc_fn)(size_t size, void *ud);
  void *(*realloc_fn)(void *ptr, size_t size, void *ud);
  void (*free_fn)(void *ptr, void *ud);
  void *ud;
};

/* The libc allocator; never NULL. */
const struct azr__mem *azr__mem_default(void);

void *azr__malloc(const struct azr__mem *mem, size_t size);
void *azr__calloc(const struct azr__mem *mem, size_t count, size_t size);
void *azr__realloc(const struct azr__mem *mem, void *ptr, size_t size);
void azr__free(const struct azr__mem *mem, void *ptr);
/* Copies of NUL-terminated text or of a byte range (result NUL-terminated); NULL on failure. */
char *azr__strdup(const struct azr__mem *mem, const char *s);
char *azr__strndup(const struct azr__mem *mem, const char *s, size_t len);
/* Overwrites then frees a secret (key, token). */
void azr__free_secret(const struct azr__mem *mem, char *s);

#endif

/* SPDX-License-Identifier: MIT */
/* Allocator indirection and small string copies. */
#include "util/mem.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size, void *ud) {
  (void)ud;
  return malloc(size);
}
static void *libc_realloc(void *ptr, size_t size, void *ud) {
  (void)ud;
  return realloc(ptr, size);
}
static void libc_free(void *ptr, void *ud) {
  (void)ud;
  free(ptr);
}

static const struct azr__mem libc_mem = {libc_malloc, libc_realloc, libc_free, NULL};

const struct azr__mem *azr__mem_default(void) { return &libc_mem; }

void *azr__malloc(const struct azr__mem *mem, size_t size) {
  if (!mem) mem = &libc_mem;
  return mem->malloc_fn(size ? size : 1, mem->ud);
}

void *azr__calloc(const struct azr__mem *mem, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = azr__malloc(mem, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

void *azr__realloc(const struct azr__mem *mem, void *ptr, size_t size) {
  if (!mem) mem = &libc_mem;
  return mem->realloc_fn(ptr, size ? size : 1, mem->ud);
}

void azr__free(const struct azr__mem *mem, void *ptr) {
  if (!ptr) return;
  if (!mem) mem = &libc_mem;
  mem->free_fn(ptr, mem->ud);
}

char *azr__strndup(const struct azr__mem *mem, const char *s, size_t len) {
  char *p = azr__malloc(mem, len + 1);
  if (!p) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *azr__strdup(const struct azr__mem *mem, const char *s) {
  if (!s) return NULL;
  return azr__strndup(mem, s, strlen(s));
}

void azr__free_secret(const struct azr__mem *mem, char *s) {
  if (!s) return;
  OPENSSL_cleanse(s, strlen(s));
  azr__free(mem, s);
}

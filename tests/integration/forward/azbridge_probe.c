/* SPDX-License-Identifier: MIT */
/* A sender that speaks azbridge's preamble by hand (public API, no AzbridgePortName), so the
 * forwarding tests can check the listener's side byte by byte: it sends each hex argument as one
 * binary message, prints everything received as hex and how the connection closed.
 *
 *   azbridge_probe CONNSTR CACERT WAIT_BYTES HEX [HEX...]
 *
 * Output (stdout): "recv <hex>" (all bytes received, possibly empty) and "close <code> <reason>",
 * or "open-failed ...". With WAIT_BYTES > 0 the probe closes (1000) itself once that many bytes
 * arrived; otherwise it waits for the listener to close. It gives up after 15 s (exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay.h"

#define MAX_RECV 4096

struct probe {
  char **hex;
  int nhex;
  size_t wait_bytes;
  unsigned char recv[MAX_RECV];
  size_t got;
  bool done;
  bool closing;
  int rc;
};

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes hex text into out (cap bytes); returns the length or -1. */
static long unhex(const char *text, unsigned char *out, size_t cap) {
  size_t n = strlen(text);
  if (n % 2 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n; i += 2) {
    int hi = hexval(text[i]), lo = hexval(text[i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i / 2] = (unsigned char)(hi * 16 + lo);
  }
  return (long)(n / 2);
}

static void print_recv(const struct probe *p) {
  printf("recv ");
  for (size_t i = 0; i < p->got; i++) printf("%02x", p->recv[i]);
  printf("\n");
}

static void on_open(azr_client *c, const azr_client_open_event *ev, void *ud) {
  int status = ev->status;
  int http_status = ev->http_status;
  const char *description = ev->description;
  struct probe *p = ud;
  if (status) {
    printf("open-failed %s %d %s\n", azr_status_name(status), http_status, description);
    p->rc = 1;
    p->done = true;
    return;
  }
  for (int i = 0; i < p->nhex; i++) {
    unsigned char buf[1024];
    long n = unhex(p->hex[i], buf, sizeof buf);
    if (n <= 0 || azr_client_send(c, AZR_DATA_BINARY, buf, (size_t)n, true) != AZR_OK) {
      printf("send-failed %s\n", p->hex[i]);
      p->rc = 1;
      (void)azr_client_close(c, 1000, "probe failed");
      return;
    }
  }
}

static void on_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  struct probe *p = ud;
  size_t n = ev->len;
  if (n > MAX_RECV - p->got) n = MAX_RECV - p->got;
  memcpy(p->recv + p->got, ev->data, n);
  p->got += n;
  if (p->wait_bytes && p->got >= p->wait_bytes && !p->closing) {
    p->closing = true;
    (void)azr_client_close(c, 1000, "probe done");
  }
}

static void on_close(azr_client *c, const azr_client_close_event *ev, void *ud) {
  int code = ev->close_code;
  const char *reason = ev->reason;
  int error = ev->status;
  (void)c;
  struct probe *p = ud;
  print_recv(p);
  printf("close %d %s%s%s\n", code, reason, error ? " / " : "", error ? azr_status_name(error) : "");
  p->done = true;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: azbridge_probe CONNSTR CACERT WAIT_BYTES HEX [HEX...]\n");
    return 2;
  }
  struct probe p = {.hex = argv + 4, .nhex = argc - 4, .wait_bytes = (size_t)strtoul(argv[3], NULL, 10)};
  azr_client *c;
  if (azr_client_new(&c) != AZR_OK) return 1;
  char setting[4096];
  snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", argv[2]);
  if (azr_client_set_connection_string(c, argv[1]) != AZR_OK || azr_client_config(c, setting) != AZR_OK) {
    fprintf(stderr, "azbridge_probe: %s\n", azr_client_get_last_error(c));
    azr_client_free(c);
    return 2;
  }
  azr_client_callbacks cb = {.on_open = on_open, .on_data = on_data, .on_close = on_close};
  (void)azr_client_set_callbacks(c, &cb, sizeof cb, &p);
  if (azr_client_connect(c, "", NULL) != AZR_OK) {
    fprintf(stderr, "azbridge_probe: %s\n", azr_client_get_last_error(c));
    azr_client_free(c);
    return 1;
  }
  for (int i = 0; i < 150 && !p.done; i++) (void)azr_client_run(c, 100);
  if (!p.done) {
    print_recv(&p);
    printf("timeout\n");
    p.rc = 1;
  }
  fflush(stdout);
  azr_client_free(c);
  return p.rc;
}

/* SPDX-License-Identifier: MIT */
/* The README's sample: an echo listener in a few lines. AZRELAY_CONNECTION_STRING names the hybrid
 * connection; AZRELAY_CACERT, if set, a CA file to trust (the emulator's --cert-out). */
#include <azrelay.h>
#include <stdio.h>
#include <stdlib.h>

static void on_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  (void)l, (void)ud;
  fprintf(stderr, "%s\n", ev->status == AZR_OK ? "listening" : ev->description);
}

static void on_data(azr_listener *l, const azr_data_in_event *ev, void *ud) {
  (void)ud; /* echo every fragment back in its own format (0: the rest of a message) */
  azr_data_format format = ev->format ? ev->format : AZR_DATA_BINARY;
  /* A full send queue (AZR_E_WOULDBLOCK) ends the connection here; examples/echo_listener.c waits. */
  if (azr_conn_send_fragment(l, ev->conn_id, format, ev->data, ev->len, ev->eom) != AZR_OK)
    (void)azr_conn_close(l, ev->conn_id, 1011, "echo failed");
}

int main(void) {
  const char *connection_string = getenv("AZRELAY_CONNECTION_STRING"), *ca_file = getenv("AZRELAY_CACERT");
  azr_listener *l;
  if (!connection_string || azr_listener_new(&l) != AZR_OK) return 2;
  char setting[4096];
  snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", ca_file ? ca_file : "");
  azr_listener_callbacks cb = {.on_connected = on_connected, .on_connection_data_in = on_data};
  int rc = azr_listener_set_connection_string(l, connection_string);
  if (rc == AZR_OK) rc = azr_listener_config(l, setting);
  if (rc == AZR_OK) rc = azr_listener_set_callbacks(l, &cb, sizeof cb, NULL);
  if (rc == AZR_OK) rc = azr_listener_start(l);
  /* azr_listener_run is the reference's DoEvents. A wrong key, an unknown hybrid connection or an
   * untrusted certificate stops the listener: then the loop ends. */
  while (rc == AZR_OK && azr_listener_get_state(l) != AZR_STATE_STOPPED) rc = azr_listener_run(l, 1000);
  fprintf(stderr, "stopped: %s\n", azr_listener_get_last_error(l));
  azr_listener_free(l);
  return 1;
}

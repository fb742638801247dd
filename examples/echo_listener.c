/* SPDX-License-Identifier: MIT */
/* The reference's WebSocket example on azrelay: print each connection request, accept it, echo text.
 *
 *   echo_listener "Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=hc1"
 *
 * or set AZRELAY_CONNECTION_STRING; AZRELAY_CACERT names a CA file to trust (the emulator's). */
#include <azrelay.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void on_connection_request(azr_listener *l, azr_connection_request_event *e, void *ud) {
  (void)l;
  (void)ud;
  printf("Connection Request From: %s:%u\n", e->remote_address, e->remote_port);
  e->accept = true;
}

static void on_connection_connected(azr_listener *l, const azr_connection_event *e, void *ud) {
  (void)l;
  (void)ud;
  if (e->status == 0)
    printf("Connection [%llu] connected and ready to send and receive.\n", (unsigned long long)e->conn_id);
}

static void on_connection_data_in(azr_listener *l, const azr_data_in_event *e, void *ud) {
  (void)ud;
  if (e->format != AZR_DATA_TEXT) return; /* BufferMessage=true: every text message arrives whole */
  printf("Received data from %llu: %s\n", (unsigned long long)e->conn_id, (const char *)e->data);
  if (azr_conn_send_text(l, e->conn_id, (const char *)e->data, e->len) == AZR_OK) printf("Echoed received data back\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *connection_string = argc > 1 ? argv[1] : getenv("AZRELAY_CONNECTION_STRING");
  const char *ca_file = getenv("AZRELAY_CACERT");
  if (!connection_string) {
    fprintf(stderr, "usage: %s CONNECTION_STRING (or set AZRELAY_CONNECTION_STRING)\n", argv[0]);
    return 2;
  }
  azr_listener *listener;
  if (azr_listener_new(&listener) != AZR_OK) return 1;
  char setting[4096];
  int rc = azr_listener_set_connection_string(listener, connection_string);
  if (!rc) rc = azr_listener_config(listener, "BufferMessage=true");
  if (!rc && ca_file) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", ca_file);
    rc = azr_listener_config(listener, setting);
  }
  azr_listener_callbacks cb = {
      .on_connection_request = on_connection_request,
      .on_connection_connected = on_connection_connected,
      .on_connection_data_in = on_connection_data_in,
  };
  if (!rc) rc = azr_listener_set_callbacks(listener, &cb, sizeof cb, NULL);
  if (!rc) rc = azr_listener_start(listener); /* Listening = true */
  if (rc) {
    fprintf(stderr, "%s: %s\n", azr_status_name(rc), azr_listener_get_last_error(listener));
    azr_listener_free(listener);
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  /* DoEvents, until a signal or until the listener stops (wrong key, unknown hybrid connection,
   * untrusted certificate: the library does not retry those before it was ever online). */
  while (!stop && azr_listener_get_state(listener) != AZR_STATE_STOPPED) (void)azr_listener_run(listener, 1000);
  if (!stop) {
    fprintf(stderr, "stopped listening: %s\n", azr_listener_get_last_error(listener));
    azr_listener_free(listener);
    return 1;
  }
  (void)azr_listener_shutdown(listener); /* close the control channel politely */
  (void)azr_listener_run(listener, 300);
  azr_listener_free(listener);
  return 0;
}

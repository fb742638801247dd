/* SPDX-License-Identifier: MIT */
/* The reference's HTTP example on azrelay: print each relayed HTTP request, answer 200 with a body.
 *
 *   http_listener "Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=hc1"
 *
 * or set AZRELAY_CONNECTION_STRING; AZRELAY_CACERT names a CA file to trust (the emulator's). Then
 * send a request to https://{namespace}/hc1 with a ServiceBusAuthorization token, for example with
 * `azrelay request -c "$CONNSTR" -d hello /`. */
#include <azrelay.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void on_http_request(azr_listener *l, const azr_http_request_event *e, void *ud) {
  (void)ud;
  printf("HTTP Request from %s:%u\n", e->remote_address, e->remote_port);
  printf("HTTP Method: %s\n", e->method);
  printf("HTTP Request: ");
  fwrite(e->data, 1, e->len, stdout);
  printf("\n");
  fflush(stdout);
  /* SendHTTPResponse, with the request's ConnectionId. */
  static const char body[] = "Hello from an azrelay HTTP listener\n";
  const char *headers[] = {"Content-Type", "text/plain; charset=utf-8", NULL};
  int rc = azr_http_response_send(l, e->request_id, 200, "OK", headers, body, strlen(body));
  if (rc) fprintf(stderr, "SendHTTPResponse: %s\n", azr_strerror(rc));
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
  int rc = azr_listener_set_connection_string(listener, connection_string);
  if (!rc && ca_file) {
    char setting[4096];
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", ca_file);
    rc = azr_listener_config(listener, setting);
  }
  azr_listener_callbacks cb = {.on_http_request = on_http_request};
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

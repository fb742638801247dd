/* SPDX-License-Identifier: MIT */
/**
 * @file azrelay.h
 * @brief Umbrella header: include this one.
 *
 * It brings in every public header except azrelay/uv.h, which programs that bring their own libuv
 * loop include as well (it is the only one that needs <uv.h>). The main page of this manual explains
 * the object model, the threading rules and error handling.
 * @since 1.0.0
 */
#ifndef AZRELAY_H
#define AZRELAY_H

#include "azrelay/common.h"
#include "azrelay/token.h"
#include "azrelay/emulator.h"
#include "azrelay/listener.h"
#include "azrelay/connection.h"
#include "azrelay/client.h"
#include "azrelay/http.h"

#endif

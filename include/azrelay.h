/* SPDX-License-Identifier: MIT */
/**
 * @file azrelay.h
 * Umbrella header: include this one. Programs that bring their own libuv loop also include
 * azrelay/uv.h.
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

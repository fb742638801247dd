/* SPDX-License-Identifier: MIT */
/**
 * @file emulator.h
 * The local Azure Relay Hybrid Connections emulator, embeddable in a program or test.
 */
#ifndef AZRELAY_EMULATOR_H
#define AZRELAY_EMULATOR_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif

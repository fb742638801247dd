/* SPDX-License-Identifier: MIT */
/**
 * @file token.h
 * SAS tokens and Azure portal connection strings: pure functions, no network.
 */
#ifndef AZRELAY_TOKEN_H
#define AZRELAY_TOKEN_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MIT */
/* Placeholder translation unit for a layer with no sources yet. */
typedef int azr_empty_layer;

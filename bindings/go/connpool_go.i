// SPDX-License-Identifier: Apache-2.0
/* Go additions to connpool.i (included from its language switch).
 * SWIG generates package native (bindings/go/internal/native): exported Go names are
 * unavoidable there, so it is an internal package; the public API is package connpool. */

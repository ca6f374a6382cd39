/*
 * The QEMU driver's typed parameters (VrtTypedParam, qemu_driver_stats.h)
 * moved into their wire form, for the handlers and events that send a
 * list of them (guest info, job statistics, job-completed).
 */
#pragma once
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver_stats.h"

/* Moves params' fields and strings into a new wire array (xdr_free frees
 * it); a boolean's value is in v.i. */
void vrt_typed_params_to_wire(GPtrArray *params, remote_typed_param **val, u_int *len);
/* Copies of the wire's typed parameters (a boolean's value in v.i). */
GPtrArray *vrt_typed_params_from_wire(const remote_typed_param *val, u_int len);

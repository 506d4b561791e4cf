/* hv_base.h: common includes and the Darwin names (mach error types, Mach port types, availability macros) that Apple's Hypervisor headers rely on, supplied for non-Apple hosts. */
#pragma once
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__APPLE__)
#include <mach/error.h>
#include <mach/message.h>
#else
/* Darwin's kern_return_t / mach_error_t are a signed 32-bit int. */
typedef int kern_return_t;
typedef kern_return_t mach_error_t;

#ifndef err_system
#define err_system(x) ((int)(((unsigned)(x) & 0x3fu) << 26)) /* an int, negative for 0x20 and up, as on Darwin */
#endif
#ifndef err_sub
#define err_sub(x) (((x) & 0xfff) << 14)
#endif
#ifndef err_local
#define err_local err_system(0x3e)
#endif

/* Mach port and message types, needed only by the port-I/O notifier declarations. */
typedef unsigned int mach_port_t;
typedef unsigned int mach_port_name_t;
typedef unsigned int mach_msg_bits_t;
typedef unsigned int mach_msg_size_t;
typedef int mach_msg_id_t;
typedef unsigned int mach_msg_trailer_type_t;
typedef unsigned int mach_msg_trailer_size_t;
typedef struct {
	mach_msg_bits_t msgh_bits;
	mach_msg_size_t msgh_size;
	mach_port_t msgh_remote_port;
	mach_port_t msgh_local_port;
	mach_port_name_t msgh_voucher_port;
	mach_msg_id_t msgh_id;
} mach_msg_header_t;
typedef struct {
	mach_msg_trailer_type_t msgh_trailer_type;
	mach_msg_trailer_size_t msgh_trailer_size;
} mach_msg_trailer_t;
#ifndef MACH_PORT_NULL
#define MACH_PORT_NULL 0
#endif
#endif /* !__APPLE__ */

#ifdef __cplusplus
#define __HV_BEGIN_DECLS extern "C" {
#define __HV_END_DECLS }
#else
#define __HV_BEGIN_DECLS
#define __HV_END_DECLS
#endif

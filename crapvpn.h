/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crapvpn: the configuration ABI, what a userspace program includes to
 * create and change crapvpn devices over rtnetlink: the link kind, the
 * attributes of IFLA_INFO_DATA and their limits and defaults. The wire
 * format is crapvpn_wire.h's.
 */
#ifndef _CRAPVPN_H
#define _CRAPVPN_H

#include <linux/types.h>

#define CRAPVPN_VERSION		"1.0.0"
#define CRAPVPN_KIND		"crapvpn"

/* Both ends of the userspace version use this port for both directions. */
#define CRAPVPN_DEFAULT_PORT	1337

#define CRAPVPN_KEY_MIN		1
#define CRAPVPN_KEY_MAX		4096

/*
 * Attributes of IFLA_INFO_DATA for "type crapvpn". Addresses are in network
 * byte order, ports and lengths in host byte order. KEY is write-only: the
 * kernel reports KEY_LEN instead, because link dumps are world-readable.
 * On changelink an absent attribute keeps its value; a local address of
 * 0.0.0.0 or :: means "any".
 */
enum {
	IFLA_CRAPVPN_UNSPEC,
	IFLA_CRAPVPN_KEY,	/* binary, CRAPVPN_KEY_MIN..CRAPVPN_KEY_MAX */
	IFLA_CRAPVPN_PEER,	/* struct in_addr */
	IFLA_CRAPVPN_PEER6,	/* struct in6_addr */
	IFLA_CRAPVPN_PEER_PORT,	/* u16, not 0 */
	IFLA_CRAPVPN_PORT,	/* u16, not 0: the local listen port */
	IFLA_CRAPVPN_LOCAL,	/* struct in_addr */
	IFLA_CRAPVPN_LOCAL6,	/* struct in6_addr */
	IFLA_CRAPVPN_KEY_LEN,	/* u32, reported only */
	IFLA_CRAPVPN_MODE,	/* u8, enum crapvpn_mode, set at creation only */
	IFLA_CRAPVPN_PORT_DEVS,	/* u32, reported only: devices on this socket */
	__IFLA_CRAPVPN_MAX
};

#define IFLA_CRAPVPN_MAX	(__IFLA_CRAPVPN_MAX - 1)

/* IFLA_CRAPVPN_MODE: what a device carries, IP packets or Ethernet frames. */
enum crapvpn_mode {
	CRAPVPN_MODE_L3,
	CRAPVPN_MODE_L2,
};

#endif /* _CRAPVPN_H */

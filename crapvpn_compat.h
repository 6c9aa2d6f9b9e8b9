/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels crapvpn supports. Kbuild probes
 * the headers it builds against (see Kbuild) instead of comparing version
 * numbers, because distributions backport API changes.
 */
#ifndef _CRAPVPN_COMPAT_H
#define _CRAPVPN_COMPAT_H

#include <linux/netdevice.h>
#include <net/rtnetlink.h>
#include <net/ip_tunnels.h>
#include <net/udp_tunnel.h>

#ifdef CRAPVPN_HAVE_NET_GSO_H
#include <net/gso.h>	/* skb_gso_segment() moved here in 6.5 */
#endif

static inline void crapvpn_set_lltx(struct net_device *dev)
{
#ifdef CRAPVPN_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/*
 * Since 6.6 the core allocates and frees the per-CPU counters that the
 * tunnel helpers update, once told their type; before, the driver did.
 */
#ifdef CRAPVPN_HAVE_PCPU_STAT_TYPE
static inline int crapvpn_tstats_init(struct net_device *dev)
{
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	return 0;
}

static inline void crapvpn_tstats_free(struct net_device *dev)
{
}
#else
static inline int crapvpn_tstats_init(struct net_device *dev)
{
	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	return dev->tstats ? 0 : -ENOMEM;
}

static inline void crapvpn_tstats_free(struct net_device *dev)
{
	free_percpu(dev->tstats);
}
#endif

/*
 * 6.15 passes newlink() its arguments in a struct, where src_net is the
 * requester's namespace and link_net the one IFLA_LINK_NETNSID names.
 * Before, src_net was already "link_net ?: requester's": keep that.
 */
#ifdef CRAPVPN_HAVE_NEWLINK_PARAMS
static inline struct net *
crapvpn_params_link_net(const struct rtnl_newlink_params *params)
{
	return params->link_net ?: params->src_net;
}
#endif

/* How deep tunnels may nest: Debian's 6.12 and 7.2 have it, 6.1 not. */
#ifndef IP_TUNNEL_RECURSION_LIMIT
#define IP_TUNNEL_RECURSION_LIMIT	5
#endif

/* 7.2 (and some stable kernels) take the struct sock, not the socket. */
#ifdef CRAPVPN_HAVE_TUNNEL_SK_API
#define crapvpn_setup_tunnel_sock(net, sock, cfg) \
	setup_udp_tunnel_sock(net, (sock)->sk, cfg)
#define crapvpn_tunnel_sock_release(sock) udp_tunnel_sock_release((sock)->sk)
#else
#define crapvpn_setup_tunnel_sock(net, sock, cfg) \
	setup_udp_tunnel_sock(net, sock, cfg)
#define crapvpn_tunnel_sock_release(sock) udp_tunnel_sock_release(sock)
#endif

#endif /* _CRAPVPN_COMPAT_H */

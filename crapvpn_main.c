// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn: the CrapVPN tunnel as a kernel network device.
 *
 * A crapvpn device is a layer-3 point-to-point link, or with mode l2 an
 * Ethernet device. Each IP packet (or frame) sent to it is XORed with a
 * repeating key, prefixed with an 8-byte header and sent in one UDP
 * datagram to the peer; datagrams arriving at the device's UDP port are
 * checked, XORed back and handed to the stack. The bytes on the
 * wire are those of the userspace CrapVPN, so either end can be either.
 *
 * The configuration (key, peer, ports, local address) lives in one
 * RCU-managed struct crapvpn_conf: a packet sees all of the old or all of
 * the new configuration, never a mix. Devices bound to the same local
 * address and port share one UDP socket, a struct crapvpn_port, which
 * hands each datagram to the device whose peer sent it. The port is
 * published on its own (transmit checks that its socket is of the peer's
 * family); it belongs to the network namespace the device was created in
 * and stays there if the device moves, as WireGuard's socket does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/dst_cache.h>
#include <net/gro_cells.h>
#include <net/icmp.h>
#include <net/inet_sock.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ip_tunnels.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <net/rtnetlink.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "crapvpn_wire.h"
#include "crapvpn_compat.h"

#ifdef CRAPVPN_HAVE_XOR_AVX2
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#endif

#if !IS_ENABLED(CONFIG_IPV6)
#error "crapvpn needs a kernel with IPv6"
#endif

/* The largest inner packet whose datagram still fits in an IPv4 packet. */
#define CRAPVPN_MAX_MTU		(IP_MAX_MTU - CRAPVPN_OVERHEAD4)
#define CRAPVPN_PATH_MTU	1500

/*
 * Why a packet was dropped. The order is the order of `ethtool -S`; the
 * first group also counts as rx_errors, see crapvpn_get_stats64().
 */
enum crapvpn_drop {
	CRAPVPN_DROP_RX_SHORT,		/* datagram shorter than the header */
	CRAPVPN_DROP_RX_BAD_MAGIC,	/* not "crap" */
	CRAPVPN_DROP_RX_BAD_LENGTH,	/* length field != ciphertext length */
	CRAPVPN_DROP_RX_EMPTY,		/* length field 0 */
	CRAPVPN_DROP_RX_NOT_IP,		/* decrypted packet is not IPv4/IPv6 */
	CRAPVPN_DROP_RX_MODE,		/* EtherType of the other mode */
	CRAPVPN_DROP_RX_SHORT_FRAME,	/* layer 2: no whole Ethernet header */
	CRAPVPN_DROP_RX_NOMEM,
	CRAPVPN_DROP_RX_DOWN,		/* device is down */
	CRAPVPN_DROP_RX_BACKLOG,	/* the stack's backlog was full */
	CRAPVPN_DROP_TX_NOT_IP,		/* not an IPv4/IPv6 packet */
	CRAPVPN_DROP_TX_TOO_BIG,	/* datagram would not fit an IP packet */
	CRAPVPN_DROP_TX_NO_PEER,
	CRAPVPN_DROP_TX_NO_ROUTE,	/* no route (or no socket) to the peer */
	CRAPVPN_DROP_TX_LOOP,		/* route to the peer leads back here */
	CRAPVPN_DROP_TX_NOMEM,
	CRAPVPN_DROP_TX_XMIT,		/* the IP layer refused the datagram */
	CRAPVPN_DROP_MAX
};

static const char crapvpn_drop_names[CRAPVPN_DROP_MAX][ETH_GSTRING_LEN] = {
	[CRAPVPN_DROP_RX_SHORT]		= "rx_drop_short",
	[CRAPVPN_DROP_RX_BAD_MAGIC]	= "rx_drop_bad_magic",
	[CRAPVPN_DROP_RX_BAD_LENGTH]	= "rx_drop_bad_length",
	[CRAPVPN_DROP_RX_EMPTY]		= "rx_drop_empty",
	[CRAPVPN_DROP_RX_NOT_IP]	= "rx_drop_not_ip",
	[CRAPVPN_DROP_RX_MODE]		= "rx_drop_mode",
	[CRAPVPN_DROP_RX_SHORT_FRAME]	= "rx_drop_short_frame",
	[CRAPVPN_DROP_RX_NOMEM]		= "rx_drop_nomem",
	[CRAPVPN_DROP_RX_DOWN]		= "rx_drop_down",
	[CRAPVPN_DROP_RX_BACKLOG]	= "rx_drop_backlog",
	[CRAPVPN_DROP_TX_NOT_IP]	= "tx_drop_not_ip",
	[CRAPVPN_DROP_TX_TOO_BIG]	= "tx_drop_too_big",
	[CRAPVPN_DROP_TX_NO_PEER]	= "tx_drop_no_peer",
	[CRAPVPN_DROP_TX_NO_ROUTE]	= "tx_drop_no_route",
	[CRAPVPN_DROP_TX_LOOP]		= "tx_drop_loop",
	[CRAPVPN_DROP_TX_NOMEM]		= "tx_drop_nomem",
	[CRAPVPN_DROP_TX_XMIT]		= "tx_drop_xmit",
};

union crapvpn_addr {
	struct sockaddr sa;	/* sa_family AF_UNSPEC: none / any */
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

struct crapvpn_params {
	union crapvpn_addr peer;
	union crapvpn_addr local;
	u16 peer_port;
	u16 port;
};

struct crapvpn_conf {
	struct crapvpn_params p;
	struct crapvpn_dev *cv;
	struct hlist_node node;		/* in its port's peers, if it has one */
	struct dst_cache dst_cache;	/* routes to this peer only */
	struct crapvpn_keystream *ks;	/* in the same allocation */
};

/*
 * A UDP socket and the devices that share it. A lone device takes every
 * datagram, from any source, as the userspace CrapVPN does; devices that
 * share the socket each have a peer, and a datagram goes to the one whose
 * peer address sent it, or, where several have that address, whose peer
 * port matches too. Each configuration is hashed, not the device, so a
 * datagram is always opened with the key that goes with its sender.
 */
#define CRAPVPN_PEER_BITS	10

struct crapvpn_port {
	struct socket __rcu *sock;	/* NULL: lost to a failed rebind */
	struct crapvpn_params bind;	/* its family, local address and port */
	struct list_head list;		/* on its namespace's, under RTNL */
	struct list_head devs;		/* under RTNL */
	unsigned int ndevs;
	struct crapvpn_conf __rcu *sole;	/* the lone device's */
	atomic_long_t rx_unknown;	/* datagrams from no device's peer */
	struct hlist_head peers[1 << CRAPVPN_PEER_BITS];
};

struct crapvpn_dev {
	struct net_device *dev;
	struct net *net;		/* where the socket lives */
	struct crapvpn_conf __rcu *conf;
	struct crapvpn_port __rcu *port;
	struct list_head port_node;	/* on the port's devs, under RTNL */
	struct gro_cells gro_cells;
	enum crapvpn_mode mode;		/* fixed at creation */
	struct list_head list;		/* on its socket netns's, under RTNL */
	atomic_long_t drops[CRAPVPN_DROP_MAX];
};

/*
 * The devices whose socket lives in a namespace, to delete them when it
 * goes away (wherever they have moved), and the ports open there.
 */
struct crapvpn_net {
	struct list_head devs;
	struct list_head ports;
};

static unsigned int crapvpn_net_id __read_mostly;

static struct list_head *crapvpn_net_devs(struct net *net)
{
	struct crapvpn_net *cn = net_generic(net, crapvpn_net_id);

	return &cn->devs;
}

static struct list_head *crapvpn_net_ports(struct net *net)
{
	struct crapvpn_net *cn = net_generic(net, crapvpn_net_id);

	return &cn->ports;
}

static void crapvpn_count_drop(struct crapvpn_dev *cv, enum crapvpn_drop why)
{
	atomic_long_inc(&cv->drops[why]);
}

static int crapvpn_sock_family(const struct crapvpn_params *p)
{
	return p->local.sa.sa_family ?: p->peer.sa.sa_family ?: AF_INET;
}

/* ---- Configuration ---- */

static void crapvpn_conf_free(struct crapvpn_conf *conf)
{
	if (!conf)
		return;
	dst_cache_destroy(&conf->dst_cache);
	kvfree_sensitive(conf, sizeof(*conf) +
			 crapvpn_keystream_size(conf->ks->keylen));
}

static bool crapvpn_addr_any(const union crapvpn_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return !a->sin.sin_addr.s_addr;
	return ipv6_addr_any(&a->sin6.sin6_addr);
}

static void crapvpn_set_addr(union crapvpn_addr *a, const struct nlattr *nla,
			     int family)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = family;
	if (family == AF_INET)
		a->sin.sin_addr.s_addr = nla_get_in_addr(nla);
	else
		a->sin6.sin6_addr = nla_get_in6_addr(nla);
}

/*
 * Apply the attributes in @data to @p. The caller has run
 * crapvpn_validate(), so sizes and ranges are right here.
 */
static void crapvpn_params_apply(struct crapvpn_params *p,
				 struct nlattr *data[])
{
	if (data[IFLA_CRAPVPN_PEER])
		crapvpn_set_addr(&p->peer, data[IFLA_CRAPVPN_PEER], AF_INET);
	if (data[IFLA_CRAPVPN_PEER6])
		crapvpn_set_addr(&p->peer, data[IFLA_CRAPVPN_PEER6], AF_INET6);
	if (data[IFLA_CRAPVPN_LOCAL])
		crapvpn_set_addr(&p->local, data[IFLA_CRAPVPN_LOCAL], AF_INET);
	if (data[IFLA_CRAPVPN_LOCAL6])
		crapvpn_set_addr(&p->local, data[IFLA_CRAPVPN_LOCAL6], AF_INET6);
	if (p->local.sa.sa_family && crapvpn_addr_any(&p->local))
		p->local.sa.sa_family = AF_UNSPEC;
	if (data[IFLA_CRAPVPN_PEER_PORT])
		p->peer_port = nla_get_u16(data[IFLA_CRAPVPN_PEER_PORT]);
	if (data[IFLA_CRAPVPN_PORT])
		p->port = nla_get_u16(data[IFLA_CRAPVPN_PORT]);
}

/*
 * A new configuration: @old (NULL on creation) with the changes in @data.
 * Without a new key the old key stream is copied.
 */
static struct crapvpn_conf *crapvpn_conf_new(struct crapvpn_dev *cv,
					     const struct crapvpn_conf *old,
					     struct nlattr *data[],
					     struct netlink_ext_ack *extack)
{
	const struct nlattr *key = data ? data[IFLA_CRAPVPN_KEY] : NULL;
	struct crapvpn_params p = {
		.peer_port = CRAPVPN_DEFAULT_PORT,
		.port = CRAPVPN_DEFAULT_PORT,
	};
	struct crapvpn_conf *conf;
	size_t keylen;

	if (!key && !old) {
		NL_SET_ERR_MSG(extack, "crapvpn: a key is required");
		return ERR_PTR(-EINVAL);
	}
	if (old)
		p = old->p;
	if (data)
		crapvpn_params_apply(&p, data);
	if (p.local.sa.sa_family && p.peer.sa.sa_family &&
	    p.local.sa.sa_family != p.peer.sa.sa_family) {
		NL_SET_ERR_MSG(extack,
			       "crapvpn: peer and local address must be of the same family");
		return ERR_PTR(-EINVAL);
	}

	keylen = key ? nla_len(key) : old->ks->keylen;
	conf = kvzalloc(sizeof(*conf) + crapvpn_keystream_size(keylen),
			GFP_KERNEL);
	if (!conf)
		return ERR_PTR(-ENOMEM);
	conf->ks = (struct crapvpn_keystream *)(conf + 1);
	if (dst_cache_init(&conf->dst_cache, GFP_KERNEL)) {
		kvfree(conf);
		return ERR_PTR(-ENOMEM);
	}
	conf->p = p;
	conf->cv = cv;
	if (key)
		crapvpn_keystream_init(conf->ks, nla_data(key), keylen);
	else
		memcpy(conf->ks, old->ks, crapvpn_keystream_size(keylen));
	return conf;
}

/* ---- Copying with the XOR ---- */

/*
 * The XOR in AVX2 registers costs kernel_fpu_begin(), which saves the
 * task's own vector registers the first time after it entered the kernel:
 * worth it for a GSO batch or a datagram of CRAPVPN_SIMD_MIN bytes or
 * more. Not where the vector registers are taken already, say in a hard
 * interrupt that cut into other vector code: irq_fpu_usable() knows.
 */
#define CRAPVPN_SIMD_MIN	512

#ifdef CRAPVPN_HAVE_XOR_AVX2
/* Whether the CPU runs AVX2 and the kernel saves the YMM state: at load. */
static DEFINE_STATIC_KEY_FALSE(crapvpn_avx2);

static void __init crapvpn_simd_init(void)
{
	if (boot_cpu_has(X86_FEATURE_AVX2) &&
	    cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM, NULL))
		static_branch_enable(&crapvpn_avx2);
}
#else
static void __init crapvpn_simd_init(void)
{
}
#endif

static bool crapvpn_simd_begin(unsigned int len)
{
#ifdef CRAPVPN_HAVE_XOR_AVX2
	if (static_branch_likely(&crapvpn_avx2) && len >= CRAPVPN_SIMD_MIN &&
	    irq_fpu_usable()) {
		kernel_fpu_begin();
		return true;
	}
#endif
	return false;
}

static void crapvpn_simd_end(bool simd)
{
#ifdef CRAPVPN_HAVE_XOR_AVX2
	if (simd)
		kernel_fpu_end();
#endif
}

/* crapvpn_xor(), in AVX2 registers if crapvpn_simd_begin() said so. */
static u32 crapvpn_xor_simd(bool simd, const struct crapvpn_keystream *ks,
			    u8 *dst, const u8 *src, unsigned int len, u32 pos)
{
#ifdef CRAPVPN_HAVE_XOR_AVX2
	if (simd)
		return crapvpn_xor_avx2(ks, dst, src, len, pos);
#endif
	return crapvpn_xor(ks, dst, src, len, pos);
}

/* A whole packet in place, from key position 0. */
static void crapvpn_xor_inplace(const struct crapvpn_keystream *ks, u8 *p,
				unsigned int len)
{
	bool simd = crapvpn_simd_begin(len);

	crapvpn_xor_simd(simd, ks, p, p, len, 0);
	crapvpn_simd_end(simd);
}

/*
 * Where the next byte goes: @room bytes at @dst, then the frags from @frag
 * on (the pages of a packed skb), or nothing more (a linear buffer). @simd:
 * inside crapvpn_simd_begin().
 */
struct crapvpn_cursor {
	u8 *dst;
	unsigned int room;
	skb_frag_t *frag;
	bool simd;
};

/* Appends @len bytes from @src, XORed from key position @pos if @ks. */
static u32 crapvpn_fill(struct crapvpn_cursor *c,
			const struct crapvpn_keystream *ks,
			const u8 *src, unsigned int len, u32 pos)
{
	while (len) {
		unsigned int n;

		if (!c->room) {
			c->dst = skb_frag_address(c->frag);
			c->room = skb_frag_size(c->frag);
			c->frag++;
		}
		n = min(len, c->room);
		if (ks)
			pos = crapvpn_xor_simd(c->simd, ks, c->dst, src, n, pos);
		else
			memcpy(c->dst, src, n);
		src += n;
		len -= n;
		c->dst += n;
		c->room -= n;
	}
	return pos;
}

/*
 * Appends the whole of @skb XORed, reading its head, page frags and frag
 * list where they are: one pass, and the packet itself is never written.
 */
static void crapvpn_fill_skb(struct crapvpn_cursor *c,
			     const struct crapvpn_keystream *ks,
			     struct sk_buff *skb)
{
	struct skb_seq_state st;
	unsigned int done = 0, n;
	const u8 *data;
	u32 pos = 0;

	skb_prepare_seq_read(skb, 0, skb->len, &st);
	while ((n = skb_seq_read(done, &data, &st))) {
		pos = crapvpn_fill(c, ks, data, n, pos);
		done += n;
	}
}

/* ---- Receive ---- */

static enum crapvpn_drop crapvpn_hdr_drop(enum crapvpn_hdr_verdict v)
{
	switch (v) {
	case CRAPVPN_HDR_SHORT:
		return CRAPVPN_DROP_RX_SHORT;
	case CRAPVPN_HDR_BAD_MAGIC:
		return CRAPVPN_DROP_RX_BAD_MAGIC;
	case CRAPVPN_HDR_BAD_LENGTH:
		return CRAPVPN_DROP_RX_BAD_LENGTH;
	case CRAPVPN_HDR_MODE:
		return CRAPVPN_DROP_RX_MODE;
	default:
		return CRAPVPN_DROP_RX_EMPTY;
	}
}

/*
 * Decrypts @skb, which holds the ciphertext, and returns the plaintext: in
 * place if the packet is linear and ours alone, else in a new skb. A clone
 * (a packet socket on the underlay holds one) must not see the data
 * change, and page frags may be shared with the other datagrams of a GSO
 * burst; copying them is cheaper than pskb_expand_head() too, which
 * would have a larger head zeroed first (init_on_alloc). NULL: no memory,
 * @skb is left to the caller.
 */
static struct sk_buff *crapvpn_open(struct crapvpn_dev *cv,
				    const struct crapvpn_keystream *ks,
				    struct sk_buff *skb)
{
	struct crapvpn_cursor c = { .room = skb->len };
	struct sk_buff *plain;

	if (!skb_cloned(skb) && !skb_is_nonlinear(skb)) {
		crapvpn_xor_inplace(ks, skb->data, skb->len);
		return skb;
	}
	plain = netdev_alloc_skb(cv->dev, skb->len);
	if (!plain)
		return NULL;
	c.dst = skb_put(plain, skb->len);
	c.simd = crapvpn_simd_begin(skb->len);
	crapvpn_fill_skb(&c, ks, skb);
	crapvpn_simd_end(c.simd);
	consume_skb(skb);
	return plain;
}

/*
 * Sets skb->protocol and the headers from the decrypted inner packet, if
 * it is IP, or from the frame's Ethernet header in layer-2 mode (which
 * also decides pkt_type: the frame may be for another host on a bridge).
 */
static int crapvpn_inner_proto(struct crapvpn_dev *cv, struct sk_buff *skb)
{
	if (cv->mode == CRAPVPN_MODE_L2) {
		if (skb->len < ETH_HLEN)
			return CRAPVPN_DROP_RX_SHORT_FRAME;
		skb->protocol = eth_type_trans(skb, cv->dev);
		skb_reset_network_header(skb);
		return 0;
	}
	skb->dev = cv->dev;
	skb->pkt_type = PACKET_HOST;
	skb_reset_network_header(skb);
	skb_reset_mac_header(skb);
	skb_reset_mac_len(skb);

	switch (crapvpn_inner_version(skb->data[0])) {
	case 4:
		if (skb->len < sizeof(struct iphdr))
			return CRAPVPN_DROP_RX_NOT_IP;
		skb->protocol = htons(ETH_P_IP);
		return 0;
	case 6:
		if (skb->len < sizeof(struct ipv6hdr))
			return CRAPVPN_DROP_RX_NOT_IP;
		skb->protocol = htons(ETH_P_IPV6);
		return 0;
	default:
		return CRAPVPN_DROP_RX_NOT_IP;
	}
}

static struct hlist_head *crapvpn_bucket(struct crapvpn_port *port,
					 const union crapvpn_addr *a)
{
	u32 h = a->sa.sa_family == AF_INET ?
		(__force u32)a->sin.sin_addr.s_addr :
		ipv6_addr_hash(&a->sin6.sin6_addr);

	return &port->peers[hash_32(h, CRAPVPN_PEER_BITS)];
}

/* Ports are not compared; two unset (AF_UNSPEC) addresses are equal. */
static bool crapvpn_addr_equal(const union crapvpn_addr *a,
			       const union crapvpn_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	case AF_INET6:
		return ipv6_addr_equal(&a->sin6.sin6_addr, &b->sin6.sin6_addr);
	}
	return true;
}

/*
 * The configuration of the device that @skb's sender is the peer of: the
 * only one with its address, or the one with its address and port. Two
 * configurations of one device (a change under way) are no ambiguity.
 */
static struct crapvpn_conf *crapvpn_port_lookup(struct crapvpn_port *port,
						struct sock *sk,
						struct sk_buff *skb)
{
	u16 sport = ntohs(udp_hdr(skb)->source);
	struct crapvpn_conf *conf, *found = NULL;
	union crapvpn_addr from;
	bool ambiguous = false;

	from.sa.sa_family = sk->sk_family;
	if (sk->sk_family == AF_INET)
		from.sin.sin_addr.s_addr = ip_hdr(skb)->saddr;
	else
		from.sin6.sin6_addr = ipv6_hdr(skb)->saddr;

	hlist_for_each_entry_rcu(conf, crapvpn_bucket(port, &from), node) {
		if (!crapvpn_addr_equal(&conf->p.peer, &from))
			continue;
		if (conf->p.peer_port == sport)
			return conf;
		if (found && found->cv != conf->cv)
			ambiguous = true;
		found = conf;
	}
	return ambiguous ? NULL : found;
}

/*
 * The socket's encap_rcv hook. It consumes every datagram (returns 0), so
 * nothing is ever queued on the socket itself; the UDP checksum has been
 * verified already. That checksum covers the ciphertext in transit only:
 * a packet XORed with the wrong key, or damaged before the peer's XOR,
 * passes it. So the inner checksums are left to the stack to verify.
 */
static int crapvpn_udp_recv(struct sock *sk, struct sk_buff *skb)
{
	struct crapvpn_port *port = rcu_dereference_sk_user_data(sk);
	enum crapvpn_hdr_verdict verdict;
	struct crapvpn_conf *conf;
	struct crapvpn_dev *cv;
	struct sk_buff *plain;
	unsigned int len;
	int why;

	if (!port)	/* being released */
		goto free;
	conf = rcu_dereference(port->sole) ?: crapvpn_port_lookup(port, sk, skb);
	if (!conf) {
		atomic_long_inc(&port->rx_unknown);
		goto free;
	}
	cv = conf->cv;

	len = skb->len - sizeof(struct udphdr);
	if (!pskb_may_pull(skb, sizeof(struct udphdr) +
			   min_t(unsigned int, len, CRAPVPN_HDR_LEN))) {
		why = CRAPVPN_DROP_RX_NOMEM;
		goto drop;
	}
	verdict = crapvpn_hdr_check(skb->data + sizeof(struct udphdr), len,
				    cv->mode);
	if (verdict != CRAPVPN_HDR_OK) {
		why = crapvpn_hdr_drop(verdict);
		goto drop;
	}
	if (unlikely(!netif_running(cv->dev))) {
		why = CRAPVPN_DROP_RX_DOWN;
		goto drop;
	}
	__skb_pull(skb, sizeof(struct udphdr) + CRAPVPN_HDR_LEN);

	plain = crapvpn_open(cv, conf->ks, skb);
	if (!plain) {
		why = CRAPVPN_DROP_RX_NOMEM;
		goto drop;
	}
	skb = plain;
	len = skb->len;
	skb_scrub_packet(skb, !net_eq(cv->net, dev_net(cv->dev)));
	why = crapvpn_inner_proto(cv, skb);
	if (why)
		goto drop;

	/*
	 * A hash from the NIC or RPS is of the outer 5-tuple, which every
	 * datagram of the tunnel shares: RPS and RFS on this device would
	 * steer all inner flows to one CPU. Let them hash the inner packet.
	 */
	skb_clear_hash(skb);
	/*
	 * The underlay's receive queue is no queue of this device: left
	 * recorded, it makes RPS give up on the packet.
	 */
	skb_set_queue_mapping(skb, 0);
	skb->ip_summed = CHECKSUM_NONE;
	skb->csum_valid = 0;
	skb->csum_level = 0;
	skb->encapsulation = 0;

	if (likely(gro_cells_receive(&cv->gro_cells, skb) == NET_RX_SUCCESS))
		dev_sw_netstats_rx_add(cv->dev, len);
	else	/* already freed and counted in rx_dropped by the core */
		crapvpn_count_drop(cv, CRAPVPN_DROP_RX_BACKLOG);
	return 0;

drop:
	crapvpn_count_drop(cv, why);
free:
	kfree_skb(skb);
	return 0;
}

/* ---- UDP socket ---- */

static struct socket *crapvpn_sock_open(struct net *net,
					const struct crapvpn_params *p,
					struct crapvpn_port *port)
{
	struct udp_tunnel_sock_cfg tunnel = {
		.sk_user_data = port,
		.encap_type = 1,
		.encap_rcv = crapvpn_udp_recv,
	};
	struct udp_port_cfg cfg = {
		.family = crapvpn_sock_family(p),
		.local_udp_port = htons(p->port),
	};
	struct socket *sock;
	int err;

	if (cfg.family == AF_INET) {
		cfg.local_ip = p->local.sin.sin_addr;
		cfg.use_udp_checksums = true;
	} else {
		cfg.local_ip6 = p->local.sin6.sin6_addr;
		cfg.ipv6_v6only = true;
		cfg.use_udp6_tx_checksums = true;
		cfg.use_udp6_rx_checksums = true;
	}

	err = udp_sock_create(net, &cfg, &sock);
	if (err)
		return ERR_PTR(err);

	crapvpn_setup_tunnel_sock(net, sock, &tunnel);
	/*
	 * That asks the UDP layer to convert checksums to CHECKSUM_COMPLETE,
	 * for tunnels that pass the outer sum on to the inner packet. Ours is
	 * over ciphertext, so crapvpn_udp_recv() sets ip_summed itself; and
	 * with conversion on, each datagram split off a GSO packet (from a
	 * sender on this host, or merged by GRO, so trusted already) gets a
	 * checksum computed in software, a pass over every byte for nothing.
	 */
	inet_dec_convert_csum(sock->sk);
	return sock;
}

/* Says why crapvpn_sock_open() failed, if it did; returns @sock. */
static struct socket *crapvpn_sock_err(struct socket *sock,
				       struct netlink_ext_ack *extack)
{
	if (PTR_ERR_OR_ZERO(sock) == -EADDRINUSE)
		NL_SET_ERR_MSG(extack, "crapvpn: the UDP port is already in use");
	else if (PTR_ERR_OR_ZERO(sock) == -EADDRNOTAVAIL)
		NL_SET_ERR_MSG(extack,
			       "crapvpn: the local address is not one of this host's");
	else if (IS_ERR(sock))
		NL_SET_ERR_MSG(extack, "crapvpn: cannot open the UDP socket");
	return sock;
}

static void crapvpn_sock_close(struct socket *sock)
{
	if (sock)
		crapvpn_tunnel_sock_release(sock);	/* waits for readers */
}

static bool crapvpn_same_bind(const struct crapvpn_params *a,
			      const struct crapvpn_params *b)
{
	return crapvpn_sock_family(a) == crapvpn_sock_family(b) &&
	       a->port == b->port && crapvpn_addr_equal(&a->local, &b->local);
}

/* ---- Ports: sockets shared by devices, all under RTNL ---- */

/* An open port in @net bound as @p would be, if there is one. */
static struct crapvpn_port *crapvpn_port_find(struct net *net,
					      const struct crapvpn_params *p)
{
	struct crapvpn_port *port;

	list_for_each_entry(port, crapvpn_net_ports(net), list)
		if (rtnl_dereference(port->sock) &&
		    crapvpn_same_bind(&port->bind, p))
			return port;
	return NULL;
}

static struct crapvpn_port *crapvpn_port_open(struct net *net,
					      const struct crapvpn_params *p,
					      struct netlink_ext_ack *extack)
{
	struct crapvpn_port *port = kvzalloc(sizeof(*port), GFP_KERNEL);
	struct socket *sock;

	if (!port)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&port->devs);
	port->bind = *p;
	sock = crapvpn_sock_err(crapvpn_sock_open(net, p, port), extack);
	if (IS_ERR(sock)) {
		kvfree(port);
		return ERR_CAST(sock);
	}
	RCU_INIT_POINTER(port->sock, sock);
	list_add(&port->list, crapvpn_net_ports(net));
	return port;
}

/* Closes @port if no device is left on it; no reader may see it there. */
static void crapvpn_port_put(struct crapvpn_port *port)
{
	if (port->ndevs)
		return;
	list_del(&port->list);
	crapvpn_sock_close(rtnl_dereference(port->sock));
	kvfree(port);
}

/*
 * Moves a lone device's socket to @p's address and port; the old socket,
 * if still open, is left in @stale for the caller to close once the new
 * configuration is published. Binding the new socket first keeps the old
 * one if that fails; only a rebind on the very same port must close the
 * old socket first, and reopens it if the new bind fails. Only the final
 * failure is reported: a success must not come with an error message.
 */
static int crapvpn_port_rebind(struct net *net, struct crapvpn_port *port,
			       const struct crapvpn_params *p,
			       struct socket **stale,
			       struct netlink_ext_ack *extack)
{
	struct socket *old = rtnl_dereference(port->sock);
	struct socket *sock = crapvpn_sock_open(net, p, port);

	if (PTR_ERR_OR_ZERO(sock) == -EADDRINUSE && old &&
	    port->bind.port == p->port) {
		RCU_INIT_POINTER(port->sock, NULL);
		crapvpn_sock_close(old);
		old = NULL;
		sock = crapvpn_sock_open(net, p, port);
		if (IS_ERR(sock)) {
			old = crapvpn_sock_open(net, &port->bind, port);
			rcu_assign_pointer(port->sock, IS_ERR(old) ? NULL : old);
		}
	}
	if (IS_ERR(crapvpn_sock_err(sock, extack)))
		return PTR_ERR(sock);
	rcu_assign_pointer(port->sock, sock);
	port->bind = *p;
	*stale = old;
	return 0;
}

/*
 * The port for @cv bound as @p: a port open there already, or the one @cv
 * is alone on, rebound (see crapvpn_port_rebind() for @stale), or a new
 * one.
 */
static struct crapvpn_port *crapvpn_port_get(struct crapvpn_dev *cv,
					     const struct crapvpn_params *p,
					     struct socket **stale,
					     struct netlink_ext_ack *extack)
{
	struct crapvpn_port *cur = rtnl_dereference(cv->port);
	struct crapvpn_port *port = crapvpn_port_find(cv->net, p);
	int err;

	if (port && port != cur)
		return port;
	if (cur && cur->ndevs == 1) {
		err = crapvpn_port_rebind(cv->net, cur, p, stale, extack);
		return err ? ERR_PTR(err) : cur;
	}
	return crapvpn_port_open(cv->net, p, extack);
}

/* Whether @conf, @cv's next configuration, may share @port. */
static int crapvpn_port_admit(struct crapvpn_port *port, struct crapvpn_dev *cv,
			      const struct crapvpn_conf *conf,
			      struct netlink_ext_ack *extack)
{
	unsigned int others = port->ndevs - (rtnl_dereference(cv->port) == port);
	struct crapvpn_conf *sole = rtnl_dereference(port->sole);
	struct crapvpn_conf *c;

	if (!others)
		return 0;
	if (!conf->p.peer.sa.sa_family) {
		NL_SET_ERR_MSG(extack,
			       "crapvpn: a device that shares its port needs a peer");
		return -EINVAL;
	}
	if (sole && sole->cv != cv && !sole->p.peer.sa.sa_family) {
		NL_SET_ERR_MSG(extack,
			       "crapvpn: the UDP port is in use by a device without a peer");
		return -EADDRINUSE;
	}
	hlist_for_each_entry(c, crapvpn_bucket(port, &conf->p.peer), node) {
		if (c->cv != cv && c->p.peer_port == conf->p.peer_port &&
		    crapvpn_addr_equal(&c->p.peer, &conf->p.peer)) {
			NL_SET_ERR_MSG(extack,
				       "crapvpn: another device on this port has the same peer address and port");
			return -EADDRINUSE;
		}
	}
	return 0;
}

static void crapvpn_port_hash(struct crapvpn_port *port,
			      struct crapvpn_conf *conf)
{
	if (conf->p.peer.sa.sa_family)
		hlist_add_head_rcu(&conf->node,
				   crapvpn_bucket(port, &conf->p.peer));
}

static void crapvpn_port_unhash(struct crapvpn_conf *conf)
{
	if (!hlist_unhashed(&conf->node))
		hlist_del_init_rcu(&conf->node);
}

/* The lone device takes every datagram; shared, the hash decides. */
static void crapvpn_port_update(struct crapvpn_port *port)
{
	struct crapvpn_dev *cv;

	cv = list_first_entry_or_null(&port->devs, struct crapvpn_dev,
				      port_node);
	rcu_assign_pointer(port->sole, port->ndevs == 1 ?
			   rtnl_dereference(cv->conf) : NULL);
}

static void crapvpn_port_join(struct crapvpn_port *port,
			      struct crapvpn_dev *cv)
{
	list_add(&cv->port_node, &port->devs);
	port->ndevs++;
	rcu_assign_pointer(cv->port, port);
}

static void crapvpn_port_leave(struct crapvpn_port *port,
			       struct crapvpn_dev *cv)
{
	list_del_init(&cv->port_node);
	port->ndevs--;
	crapvpn_port_update(port);
}

/* ---- Transmit ---- */

struct crapvpn_route {
	struct dst_entry *dst;
	union {
		__be32 saddr4;
		struct in6_addr saddr6;
	};
};

static int crapvpn_route4(struct crapvpn_dev *cv, struct crapvpn_conf *conf,
			  struct crapvpn_route *r)
{
	struct flowi4 fl4 = {
		.daddr = conf->p.peer.sin.sin_addr.s_addr,
		.saddr = conf->p.local.sa.sa_family ?
			 conf->p.local.sin.sin_addr.s_addr : 0,
		.flowi4_proto = IPPROTO_UDP,
		.fl4_sport = htons(conf->p.port),
		.fl4_dport = htons(conf->p.peer_port),
	};
	struct rtable *rt;

	rt = dst_cache_get_ip4(&conf->dst_cache, &r->saddr4);
	if (rt) {
		r->dst = &rt->dst;
		return 0;
	}
	rt = ip_route_output_key(cv->net, &fl4);
	if (IS_ERR(rt))
		return CRAPVPN_DROP_TX_NO_ROUTE;
	if (rt->dst.dev == cv->dev) {
		ip_rt_put(rt);
		return CRAPVPN_DROP_TX_LOOP;
	}
	dst_cache_set_ip4(&conf->dst_cache, &rt->dst, fl4.saddr);
	r->saddr4 = fl4.saddr;
	r->dst = &rt->dst;
	return 0;
}

static int crapvpn_route6(struct crapvpn_dev *cv, struct crapvpn_conf *conf,
			  struct sock *sk, struct crapvpn_route *r)
{
	struct flowi6 fl6 = {
		.daddr = conf->p.peer.sin6.sin6_addr,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_sport = htons(conf->p.port),
		.fl6_dport = htons(conf->p.peer_port),
	};
	struct dst_entry *dst;

	dst = dst_cache_get_ip6(&conf->dst_cache, &r->saddr6);
	if (dst) {
		r->dst = dst;
		return 0;
	}
	if (conf->p.local.sa.sa_family)
		fl6.saddr = conf->p.local.sin6.sin6_addr;
	dst = ip6_dst_lookup_flow(cv->net, sk, &fl6, NULL);
	if (IS_ERR(dst))
		return CRAPVPN_DROP_TX_NO_ROUTE;
	if (dst->dev == cv->dev) {
		dst_release(dst);
		return CRAPVPN_DROP_TX_LOOP;
	}
	dst_cache_set_ip6(&conf->dst_cache, dst, &fl6.saddr);
	r->saddr6 = fl6.saddr;
	r->dst = dst;
	return 0;
}

/*
 * Turn an inner packet into the datagram payload: header plus XORed copy,
 * in the inner skb itself. It stays the sender's: TCP Small Queues, fq
 * pacing and transmit timestamps follow it down to the underlay. The XOR
 * writes only into a private, linear buffer; anything a clone may share
 * (TCP keeps one for retransmission, packet sockets hold others, GSO
 * segments share pages) is copied into a new head first, in one go.
 */
static struct sk_buff *crapvpn_seal(const struct crapvpn_conf *conf,
				    struct sk_buff *skb, unsigned int headroom,
				    u16 type)
{
	unsigned int len = skb->len;
	int grow = max_t(int, headroom - skb_headroom(skb), 0);

	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb)
		return NULL;
	if ((skb_cloned(skb) || skb_is_nonlinear(skb) || grow) &&
	    (pskb_expand_head(skb, grow, skb->data_len, GFP_ATOMIC) ||
	     !__pskb_pull_tail(skb, skb->data_len)))
		goto free;
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		goto free;
	crapvpn_xor_inplace(conf->ks, skb->data, len);
	/*
	 * Offload state of the inner packet describes headers that are
	 * ciphertext now: a NIC must not be offered an inner checksum.
	 */
	skb->encapsulation = 0;
	crapvpn_hdr_put(skb_push(skb, CRAPVPN_HDR_LEN), len, type);
	skb->ip_summed = CHECKSUM_NONE;
	return skb;

free:
	kfree_skb(skb);
	return NULL;
}

static unsigned int crapvpn_headroom(const struct crapvpn_conf *conf,
				     const struct crapvpn_route *r)
{
	return LL_RESERVED_SPACE(r->dst->dev) + r->dst->header_len +
	       (conf->p.peer.sa.sa_family == AF_INET6 ? CRAPVPN_OVERHEAD6 :
							CRAPVPN_OVERHEAD4);
}

/*
 * The UDP and IP headers in front of a sealed datagram or a batch, as
 * udp_tunnel_xmit_skb() and udp_tunnel6_xmit_skb() put them, and out. Those
 * return nothing: the IP layer's verdict is needed to count what was sent
 * and what was refused (by netfilter, a full qdisc, a device that is
 * down). Like them in Debian's 6.12 and 7.2, it bounds how deep tunnels
 * may nest: a route to the peer through another tunnel that leads back
 * here would otherwise recurse until the core's own limit, deeper than a
 * tunnel's stack frames allow. Consumes @skb, not the route; returns 0 or
 * the error (-ELOOP: nested too deep).
 */
static int crapvpn_send(struct crapvpn_dev *cv, struct crapvpn_conf *conf,
			struct sock *sk, struct crapvpn_route *r,
			struct sk_buff *skb)
{
	struct net *net = dev_net(r->dst->dev);
	struct udphdr *uh;
	int err;

	if (unlikely(dev_recursion_level() > IP_TUNNEL_RECURSION_LIMIT)) {
		kfree_skb(skb);
		return -ELOOP;
	}
	skb_scrub_packet(skb, !net_eq(cv->net, dev_net(cv->dev)));
	skb_clear_hash_if_not_l4(skb);
	__skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh = udp_hdr(skb);
	uh->source = htons(conf->p.port);
	uh->dest = htons(conf->p.peer_port);
	uh->len = htons(skb->len);
	dst_hold(r->dst);
	skb_dst_set(skb, r->dst);

	if (conf->p.peer.sa.sa_family == AF_INET) {
		__be32 daddr = conf->p.peer.sin.sin_addr.s_addr;
		struct iphdr *iph;

		udp_set_csum(false, skb, r->saddr4, daddr, skb->len);
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		iph = skb_push(skb, sizeof(*iph));
		skb_reset_network_header(skb);
		/* No DF: larger datagrams fragment, as the userspace ones do. */
		*iph = (struct iphdr) {
			.version = 4,
			.ihl = sizeof(*iph) >> 2,
			.ttl = ip4_dst_hoplimit(r->dst),
			.protocol = IPPROTO_UDP,
			.saddr = r->saddr4,
			.daddr = daddr,
		};
		__ip_select_ident(net, iph, skb_shinfo(skb)->gso_segs ?: 1);
		dev_xmit_recursion_inc();
		err = ip_local_out(net, sk, skb);
		dev_xmit_recursion_dec();
	} else {
		const struct in6_addr *daddr = &conf->p.peer.sin6.sin6_addr;
		struct ipv6hdr *ip6h;

		udp6_set_csum(false, skb, &r->saddr6, daddr, skb->len);
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		skb->ignore_df = 1;
		ip6h = skb_push(skb, sizeof(*ip6h));
		skb_reset_network_header(skb);
		ip6_flow_hdr(ip6h, 0, 0);
		ip6h->payload_len = htons(skb->len - sizeof(*ip6h));
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->hop_limit = ip6_dst_hoplimit(r->dst);
		ip6h->saddr = r->saddr6;
		ip6h->daddr = *daddr;
		dev_xmit_recursion_inc();
		err = ip6_local_out(net, sk, skb);
		dev_xmit_recursion_dec();
	}
	return net_xmit_eval(err);
}

/* Counts @n datagrams carrying @bytes of inner packets: sent, or not. */
static void crapvpn_count_tx(struct crapvpn_dev *cv, int err, unsigned int n,
			     unsigned int bytes)
{
	if (likely(!err))
		dev_sw_netstats_tx_add(cv->dev, n, bytes);
	else
		atomic_long_add(n, &cv->drops[err == -ELOOP ?
					      CRAPVPN_DROP_TX_LOOP :
					      CRAPVPN_DROP_TX_XMIT]);
}

/*
 * The largest inner packet whose datagram fits the outer IP header's 16-bit
 * length (IPv4: the whole packet, IPv6: the payload), which the device MTU
 * does not bound: a route's MTU may be larger. Below CRAPVPN_MAX_INNER.
 */
static unsigned int crapvpn_max_inner(const struct crapvpn_conf *conf)
{
	if (conf->p.peer.sa.sa_family == AF_INET6)
		return IP_MAX_MTU -
		       (CRAPVPN_OVERHEAD6 - sizeof(struct ipv6hdr));
	return CRAPVPN_MAX_MTU;
}

/* What bytes 6-7 say of @skb: its EtherType, or that it is a frame. */
static u16 crapvpn_type(const struct crapvpn_dev *cv,
			const struct sk_buff *skb)
{
	if (cv->mode == CRAPVPN_MODE_L2)
		return CRAPVPN_TYPE_ETHER;
	return ntohs(skb->protocol);
}

/* Sends one inner packet as one datagram; consumes @skb. */
static void crapvpn_send_one(struct crapvpn_dev *cv, struct crapvpn_conf *conf,
			     struct sock *sk, struct crapvpn_route *r,
			     struct sk_buff *skb)
{
	unsigned int len = skb->len;

	if (unlikely(len > crapvpn_max_inner(conf))) {
		crapvpn_count_drop(cv, CRAPVPN_DROP_TX_TOO_BIG);
		kfree_skb(skb);
		return;
	}
	skb = crapvpn_seal(conf, skb, crapvpn_headroom(conf, r),
			   crapvpn_type(cv, skb));
	if (unlikely(!skb)) {
		crapvpn_count_drop(cv, CRAPVPN_DROP_TX_NOMEM);
		return;
	}
	crapvpn_count_tx(cv, crapvpn_send(cv, conf, sk, r, skb), 1, len);
}

/*
 * How many of the GSO segments at @segs can travel as one
 * outer UDP GSO skb: all but the last of equal size, each datagram within
 * the path MTU, the whole within one IP packet's 64 KiB.
 */
static unsigned int crapvpn_batch(const struct crapvpn_conf *conf,
				  const struct crapvpn_route *r,
				  const struct sk_buff *segs,
				  unsigned int *bytes)
{
	unsigned int ip = conf->p.peer.sa.sa_family == AF_INET6 ?
			  sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	unsigned int size = segs->len, n = 0, total = 0;
	unsigned int room = IP_MAX_MTU - ip - sizeof(struct udphdr);
	const struct sk_buff *seg;

	if (ip + sizeof(struct udphdr) + CRAPVPN_HDR_LEN + size >
	    dst_mtu(r->dst))
		return 0;
	for (seg = segs; seg && seg->len <= size; seg = seg->next) {
		/* crapvpn_send_one() finishes checksums. */
		if (seg->ip_summed == CHECKSUM_PARTIAL)
			break;
		if (total + CRAPVPN_HDR_LEN + seg->len > room)
			break;
		total += CRAPVPN_HDR_LEN + seg->len;
		n++;
		if (seg->len < size)
			break;
	}
	*bytes = total;
	return n;
}

/*
 * Makes @skb the sender's in place of the @n segments at @segs: their
 * socket, their destructor, a transmit stamp asked for, and what they hold
 * of the socket's send memory, adjusted to @skb's size (tcp_gso_segment() spreads the same
 * over the segments). After skb_gso_segment() a segment with a
 * destructor has tcp_wfree() or sock_wfree(): both release truesize.
 */
static void crapvpn_take_owner(struct sk_buff *skb, struct sk_buff *segs,
			       unsigned int n)
{
	struct sock *sk = segs->sk;
	struct sk_buff *seg;
	int delta = skb->truesize;
	unsigned int i;

	if (!sk || !segs->destructor)
		return;
	for (i = 0, seg = segs; i < n; i++, seg = seg->next)
		if (seg->sk != sk || seg->destructor != segs->destructor)
			return;
	skb->sk = sk;
	skb->destructor = segs->destructor;
	for (i = 0, seg = segs; i < n; i++, seg = seg->next) {
		/* TCP asks one segment of a burst for a transmit stamp. */
		if (skb_shinfo(seg)->tx_flags & SKBTX_ANY_TSTAMP) {
			skb_shinfo(skb)->tx_flags |= skb_shinfo(seg)->tx_flags;
			skb_shinfo(skb)->tskey = skb_shinfo(seg)->tskey;
		}
		delta -= seg->truesize;
		seg->sk = NULL;
		seg->destructor = NULL;
	}
	if (delta > 0)
		refcount_add(delta, &sk->sk_wmem_alloc);
	else if (delta < 0)
		WARN_ON_ONCE(refcount_sub_and_test(-delta, &sk->sk_wmem_alloc));
}

/*
 * Sends @n segments as one UDP GSO skb of @bytes: every datagram is one
 * header plus one XORed segment, exactly what crapvpn_send_one() would have
 * sent, but the IP and UDP output paths and the underlay device handle them
 * once, and they are split at the last moment (by the NIC, or in software
 * by the device or the receiving socket). The segments are copied into
 * fresh pages, which is also what keeps them private. Returns false, having
 * sent nothing, if the pages cannot be had.
 */
static bool crapvpn_send_gso(struct crapvpn_dev *cv, struct crapvpn_conf *conf,
			     struct sock *sk, struct crapvpn_route *r,
			     struct sk_buff *segs, unsigned int n,
			     unsigned int bytes)
{
	unsigned int headroom = crapvpn_headroom(conf, r);
	struct crapvpn_cursor c = { };
	struct sk_buff *skb, *seg;
	u8 hdr[CRAPVPN_HDR_LEN];
	unsigned int i;
	int err;

	skb = alloc_skb_with_frags(headroom, bytes, PAGE_ALLOC_COSTLY_ORDER,
				   &err, GFP_ATOMIC | __GFP_NOWARN);
	if (!skb)
		return false;
	skb_reserve(skb, headroom);
	skb->dev = cv->dev;	/* as a single datagram has it */
	/*
	 * Keep what a single datagram, which reuses the inner skb, keeps:
	 * the inner flow's hash (the outer 5-tuple is the tunnel's, so a
	 * hash of it would put every inner flow on one transmit queue of a
	 * multiqueue underlay), and the priority and mark that the
	 * underlay's qdiscs and filters classify on.
	 */
	skb_copy_hash(skb, segs);
	skb->priority = segs->priority;
	skb->mark = segs->mark;
	crapvpn_take_owner(skb, segs, n);
	skb->len = bytes;
	skb->data_len = bytes;
	c.frag = skb_shinfo(skb)->frags;
	c.simd = crapvpn_simd_begin(bytes);
	for (i = 0, seg = segs; i < n; i++, seg = seg->next) {
		crapvpn_hdr_put(hdr, seg->len, crapvpn_type(cv, seg));
		crapvpn_fill(&c, NULL, hdr, sizeof(hdr), 0);
		crapvpn_fill_skb(&c, conf->ks, seg);
	}
	crapvpn_simd_end(c.simd);

	skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
	skb_shinfo(skb)->gso_size = CRAPVPN_HDR_LEN + segs->len;
	skb_shinfo(skb)->gso_segs = n;
	/* The UDP header goes right in front; udp_tunnel fills its check. */
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_headroom(skb) - sizeof(struct udphdr);
	skb->csum_offset = offsetof(struct udphdr, check);
	crapvpn_count_tx(cv, crapvpn_send(cv, conf, sk, r, skb), n,
			 bytes - n * CRAPVPN_HDR_LEN);
	return true;
}

static int crapvpn_tx_check(const struct crapvpn_dev *cv, struct sk_buff *skb)
{
	u8 version;

	/* The stack hands an Ethernet device nothing shorter. */
	if (cv->mode == CRAPVPN_MODE_L2)
		return 0;
	if (skb_copy_bits(skb, 0, &version, 1))
		return CRAPVPN_DROP_TX_NOT_IP;
	version >>= 4;
	if (!(skb->protocol == htons(ETH_P_IP) && version == 4) &&
	    !(skb->protocol == htons(ETH_P_IPV6) && version == 6))
		return CRAPVPN_DROP_TX_NOT_IP;
	return 0;
}

/* Tells the sender of an IP packet that nothing is there to take it. */
static void crapvpn_unreachable(struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IP))
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	else
		icmpv6_ndo_send(skb, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0);
}

static netdev_tx_t crapvpn_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	struct crapvpn_conf *conf = rcu_dereference_bh(cv->conf);
	struct crapvpn_port *port = rcu_dereference_bh(cv->port);
	struct socket *sock = port ? rcu_dereference_bh(port->sock) : NULL;
	struct sk_buff *segs, *next;
	struct crapvpn_route r;
	int why;

	why = crapvpn_tx_check(cv, skb);
	if (why)
		goto drop;
	if (!conf->p.peer.sa.sa_family) {
		why = CRAPVPN_DROP_TX_NO_PEER;
		goto unreachable;
	}
	/*
	 * No socket: a rebind failed (see crapvpn_port_rebind()). One of the other
	 * family: a changelink to a peer of the other family is between
	 * publishing its socket and its configuration.
	 */
	if (unlikely(!sock ||
		     sock->sk->sk_family != conf->p.peer.sa.sa_family)) {
		why = CRAPVPN_DROP_TX_NO_ROUTE;
		goto unreachable;
	}
	/* One route for a whole GSO burst. */
	if (conf->p.peer.sa.sa_family == AF_INET)
		why = crapvpn_route4(cv, conf, &r);
	else
		why = crapvpn_route6(cv, conf, sock->sk, &r);
	if (why)
		goto unreachable;

	if (skb_is_gso(skb)) {
		/*
		 * SG: the segments keep pointing at the payload's pages, which
		 * crapvpn_send_gso() reads once, instead of each being copied
		 * into a new (and, with init_on_alloc, first zeroed) head. No
		 * checksum feature: skb_segment() computes the inner checksums,
		 * copying any frags that are shared with userspace first.
		 */
		segs = skb_gso_segment(skb, NETIF_F_SG);
		if (IS_ERR_OR_NULL(segs)) {
			dst_release(r.dst);
			why = CRAPVPN_DROP_TX_NOMEM;
			goto drop;
		}
		consume_skb(skb);
		skb = segs;
	}
	while (skb) {
		unsigned int n, bytes;

		n = crapvpn_batch(conf, &r, skb, &bytes);
		if (n > 1 && crapvpn_send_gso(cv, conf, sock->sk, &r, skb, n,
					      bytes)) {
			for (; n; n--, skb = next) {
				next = skb->next;
				consume_skb(skb);
			}
			continue;
		}
		next = skb->next;
		skb_mark_not_on_list(skb);
		crapvpn_send_one(cv, conf, sock->sk, &r, skb);
		skb = next;
	}
	dst_release(r.dst);
	return NETDEV_TX_OK;

unreachable:
	/* An Ethernet segment has no one to tell: frames just get lost. */
	if (cv->mode == CRAPVPN_MODE_L3)
		crapvpn_unreachable(skb);
drop:
	crapvpn_count_drop(cv, why);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}

/* ---- Device ---- */

static int crapvpn_dev_init(struct net_device *dev)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	int err;

	err = crapvpn_tstats_init(dev);
	if (err)
		return err;
	err = gro_cells_init(&cv->gro_cells, dev);
	if (err)
		crapvpn_tstats_free(dev);
	return err;
}

/*
 * Takes the device off its port and releases its configuration, and the
 * port if it was the last there; safe to call twice. Both are unpublished
 * first, and freed only once no reader can hold them.
 */
static void crapvpn_release(struct crapvpn_dev *cv)
{
	struct crapvpn_port *port = rtnl_dereference(cv->port);
	struct crapvpn_conf *conf = rtnl_dereference(cv->conf);

	if (conf)
		crapvpn_port_unhash(conf);
	if (port)
		crapvpn_port_leave(port, cv);
	RCU_INIT_POINTER(cv->port, NULL);
	RCU_INIT_POINTER(cv->conf, NULL);
	synchronize_net();
	if (port)
		crapvpn_port_put(port);
	crapvpn_conf_free(conf);
}

static void crapvpn_dev_uninit(struct net_device *dev)
{
	struct crapvpn_dev *cv = netdev_priv(dev);

	list_del_init(&cv->list);
	/* The socket goes first: no receive may reach the gro_cells after. */
	crapvpn_release(cv);
	gro_cells_destroy(&cv->gro_cells);
	crapvpn_tstats_free(dev);
}

static void crapvpn_get_stats64(struct net_device *dev,
				struct rtnl_link_stats64 *stats)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	unsigned long d[CRAPVPN_DROP_MAX];
	int i;

	dev_get_tstats64(dev, stats);
	for (i = 0; i < CRAPVPN_DROP_MAX; i++)
		d[i] = atomic_long_read(&cv->drops[i]);

	stats->rx_length_errors += d[CRAPVPN_DROP_RX_SHORT] +
				   d[CRAPVPN_DROP_RX_BAD_LENGTH] +
				   d[CRAPVPN_DROP_RX_EMPTY] +
				   d[CRAPVPN_DROP_RX_SHORT_FRAME];
	stats->rx_frame_errors += d[CRAPVPN_DROP_RX_BAD_MAGIC] +
				  d[CRAPVPN_DROP_RX_NOT_IP] +
				  d[CRAPVPN_DROP_RX_MODE];
	stats->rx_errors += d[CRAPVPN_DROP_RX_SHORT] +
			    d[CRAPVPN_DROP_RX_BAD_LENGTH] +
			    d[CRAPVPN_DROP_RX_EMPTY] +
			    d[CRAPVPN_DROP_RX_BAD_MAGIC] +
			    d[CRAPVPN_DROP_RX_NOT_IP] +
			    d[CRAPVPN_DROP_RX_MODE] +
			    d[CRAPVPN_DROP_RX_SHORT_FRAME];
	/* RX_BACKLOG is in rx_dropped already: gro_cells counts it. */
	stats->rx_dropped += d[CRAPVPN_DROP_RX_NOMEM] + d[CRAPVPN_DROP_RX_DOWN];
	stats->tx_carrier_errors += d[CRAPVPN_DROP_TX_NO_ROUTE];
	stats->tx_errors += d[CRAPVPN_DROP_TX_NO_ROUTE] +
			    d[CRAPVPN_DROP_TX_LOOP] + d[CRAPVPN_DROP_TX_TOO_BIG];
	stats->tx_dropped += d[CRAPVPN_DROP_TX_NOT_IP] +
			     d[CRAPVPN_DROP_TX_NO_PEER] +
			     d[CRAPVPN_DROP_TX_NOMEM] +
			     d[CRAPVPN_DROP_TX_XMIT];
}

static const struct net_device_ops crapvpn_netdev_ops = {
	.ndo_init		= crapvpn_dev_init,
	.ndo_uninit		= crapvpn_dev_uninit,
	.ndo_start_xmit		= crapvpn_xmit,
	.ndo_get_stats64	= crapvpn_get_stats64,
};

static const struct net_device_ops crapvpn_l2_netdev_ops = {
	.ndo_init		= crapvpn_dev_init,
	.ndo_uninit		= crapvpn_dev_uninit,
	.ndo_start_xmit		= crapvpn_xmit,
	.ndo_get_stats64	= crapvpn_get_stats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

static void crapvpn_get_drvinfo(struct net_device *dev,
				struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->version, CRAPVPN_VERSION, sizeof(info->version));
}

/*
 * The device's drop counters, then its port's: the datagrams that came
 * from no device's peer belong to no device, so every device on the port
 * shows the same count.
 */
static const char crapvpn_port_stat[ETH_GSTRING_LEN] = "port_rx_unknown_peer";

static int crapvpn_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? CRAPVPN_DROP_MAX + 1 : -EOPNOTSUPP;
}

static void crapvpn_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	if (sset != ETH_SS_STATS)
		return;
	memcpy(buf, crapvpn_drop_names, sizeof(crapvpn_drop_names));
	memcpy(buf + sizeof(crapvpn_drop_names), crapvpn_port_stat,
	       sizeof(crapvpn_port_stat));
}

static void crapvpn_get_ethtool_stats(struct net_device *dev,
				      struct ethtool_stats *stats, u64 *data)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	struct crapvpn_port *port;
	int i;

	for (i = 0; i < CRAPVPN_DROP_MAX; i++)
		data[i] = atomic_long_read(&cv->drops[i]);
	rcu_read_lock();
	port = rcu_dereference(cv->port);
	data[i] = port ? atomic_long_read(&port->rx_unknown) : 0;
	rcu_read_unlock();
}

static const struct ethtool_ops crapvpn_ethtool_ops = {
	.get_drvinfo		= crapvpn_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= crapvpn_get_sset_count,
	.get_strings		= crapvpn_get_strings,
	.get_ethtool_stats	= crapvpn_get_ethtool_stats,
};

#define CRAPVPN_FEATURES (NETIF_F_HW_CSUM | NETIF_F_RXCSUM | NETIF_F_SG | \
			  NETIF_F_GSO | NETIF_F_GSO_SOFTWARE | NETIF_F_HIGHDMA)

static void crapvpn_setup(struct net_device *dev)
{
	/* A layer-3 point-to-point link like a TUN device. */
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->needed_headroom = CRAPVPN_OVERHEAD6 + LL_MAX_HEADER;
	dev->mtu = CRAPVPN_PATH_MTU - CRAPVPN_OVERHEAD4;
	dev->min_mtu = IPV4_MIN_MTU;
	dev->max_mtu = CRAPVPN_MAX_MTU;

	/* No qdisc and no TX lock: the transmit path keeps no state. */
	dev->priv_flags |= IFF_NO_QUEUE;
	/* An ICMP error about a packet that cannot be sent needs its route. */
	netif_keep_dst(dev);
	crapvpn_set_lltx(dev);
	dev->features |= CRAPVPN_FEATURES;
	dev->hw_features |= CRAPVPN_FEATURES;

	dev->netdev_ops = &crapvpn_netdev_ops;
	dev->ethtool_ops = &crapvpn_ethtool_ops;
	dev->needs_free_netdev = true;
}

/*
 * Layer-2 mode makes an Ethernet device of it. That is known only after
 * the core has set it up as a layer-3 link (crapvpn_setup()) and applied
 * the request's MTU, address and queue length, which ether_setup() resets.
 */
static int crapvpn_setup_l2(struct net_device *dev, struct nlattr *tb[],
			    struct netlink_ext_ack *extack)
{
	ether_setup(dev);
	dev->netdev_ops = &crapvpn_l2_netdev_ops;
	/* The transmit path writes into the skb: no pktgen sharing. */
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->priv_flags |= IFF_NO_QUEUE | IFF_LIVE_ADDR_CHANGE;
	/* ether_setup() cleared these; without ICMP, no route is kept. */
	dev->priv_flags |= IFF_XMIT_DST_RELEASE | IFF_XMIT_DST_RELEASE_PERM;
	dev->mtu = CRAPVPN_PATH_MTU - CRAPVPN_OVERHEAD4 - ETH_HLEN;
	dev->max_mtu = CRAPVPN_MAX_MTU - ETH_HLEN;
	if (tb[IFLA_MTU]) {
		u32 mtu = nla_get_u32(tb[IFLA_MTU]);

		if (mtu < dev->min_mtu || mtu > dev->max_mtu) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_MTU],
					    "crapvpn: a layer-2 device's MTU is 68 to 65485");
			return -EINVAL;
		}
		dev->mtu = mtu;
	}
	if (tb[IFLA_TXQLEN])
		dev->tx_queue_len = nla_get_u32(tb[IFLA_TXQLEN]);
	if (!tb[IFLA_ADDRESS]) {
		eth_hw_addr_random(dev);
		return 0;
	}
	if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN ||
	    !is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS]))) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
				    "crapvpn: the address must be a unicast Ethernet address");
		return -EADDRNOTAVAIL;
	}
	eth_hw_addr_set(dev, nla_data(tb[IFLA_ADDRESS]));
	return 0;
}

/* ---- Netlink ---- */

/*
 * Every attribute is new with this driver, so all are validated strictly:
 * exact sizes, no NLA_F_NESTED. crapvpn_validate() checks what a policy
 * cannot express.
 */
static const struct nla_policy crapvpn_policy[IFLA_CRAPVPN_MAX + 1] = {
	[IFLA_CRAPVPN_UNSPEC]	 = { .strict_start_type = IFLA_CRAPVPN_KEY },
	[IFLA_CRAPVPN_KEY]	 = NLA_POLICY_RANGE(NLA_BINARY, CRAPVPN_KEY_MIN,
						    CRAPVPN_KEY_MAX),
	[IFLA_CRAPVPN_PEER]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[IFLA_CRAPVPN_PEER6]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[IFLA_CRAPVPN_PEER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[IFLA_CRAPVPN_PORT]	 = NLA_POLICY_MIN(NLA_U16, 1),
	[IFLA_CRAPVPN_LOCAL]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[IFLA_CRAPVPN_LOCAL6]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[IFLA_CRAPVPN_KEY_LEN]	 = {
		.type = NLA_REJECT,
		.reject_message = "crapvpn: the key length is reported, not set",
	},
	[IFLA_CRAPVPN_MODE]	 = NLA_POLICY_MAX(NLA_U8, CRAPVPN_MODE_L2),
	[IFLA_CRAPVPN_PORT_DEVS] = {
		.type = NLA_REJECT,
		.reject_message = "crapvpn: the number of devices on a port is reported, not set",
	},
};

static enum crapvpn_mode crapvpn_mode_of(struct nlattr *data[])
{
	if (!data || !data[IFLA_CRAPVPN_MODE])
		return CRAPVPN_MODE_L3;
	return nla_get_u8(data[IFLA_CRAPVPN_MODE]);
}

static bool crapvpn_bad_peer(struct nlattr *data[])
{
	if (data[IFLA_CRAPVPN_PEER]) {
		__be32 a = nla_get_in_addr(data[IFLA_CRAPVPN_PEER]);

		return ipv4_is_zeronet(a) || ipv4_is_multicast(a) ||
		       ipv4_is_lbcast(a);
	}
	if (data[IFLA_CRAPVPN_PEER6]) {
		struct in6_addr a = nla_get_in6_addr(data[IFLA_CRAPVPN_PEER6]);

		return ipv6_addr_any(&a) || ipv6_addr_is_multicast(&a);
	}
	return false;
}

/*
 * An IPv6 peer of this kind the device's IPv6-only socket, which has no
 * interface to scope an address to, cannot reach.
 */
static bool crapvpn_peer6_is(struct nlattr *data[], int type)
{
	struct in6_addr a;

	if (!data[IFLA_CRAPVPN_PEER6])
		return false;
	a = nla_get_in6_addr(data[IFLA_CRAPVPN_PEER6]);
	return ipv6_addr_type(&a) & type;
}

static int crapvpn_validate(struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct nlattr *peer;

	if (!data)
		return 0;
	peer = data[IFLA_CRAPVPN_PEER] ?: data[IFLA_CRAPVPN_PEER6];
	if (data[IFLA_CRAPVPN_PEER] && data[IFLA_CRAPVPN_PEER6]) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_CRAPVPN_PEER6],
				    "crapvpn: give one peer address, IPv4 or IPv6");
		return -EINVAL;
	}
	if (data[IFLA_CRAPVPN_LOCAL] && data[IFLA_CRAPVPN_LOCAL6]) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_CRAPVPN_LOCAL6],
				    "crapvpn: give one local address, IPv4 or IPv6");
		return -EINVAL;
	}
	if (crapvpn_bad_peer(data)) {
		NL_SET_ERR_MSG_ATTR(extack, peer,
				    "crapvpn: the peer must be a unicast address");
		return -EINVAL;
	}
	if (crapvpn_peer6_is(data, IPV6_ADDR_MAPPED)) {
		NL_SET_ERR_MSG_ATTR(extack, peer,
				    "crapvpn: an IPv4-mapped peer cannot be reached over IPv6: give the IPv4 address");
		return -EINVAL;
	}
	if (crapvpn_peer6_is(data, IPV6_ADDR_LINKLOCAL)) {
		NL_SET_ERR_MSG_ATTR(extack, peer,
				    "crapvpn: a link-local IPv6 peer is not supported: it would need an interface");
		return -EINVAL;
	}
	return 0;
}

static int crapvpn_create(struct net *src_net, struct net_device *dev,
			  struct nlattr *tb[], struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	struct crapvpn_port *port;
	struct crapvpn_conf *conf;
	int err;

	cv->dev = dev;
	cv->net = src_net;
	cv->mode = crapvpn_mode_of(data);
	INIT_LIST_HEAD(&cv->list);
	INIT_LIST_HEAD(&cv->port_node);
	if (cv->mode == CRAPVPN_MODE_L2) {
		err = crapvpn_setup_l2(dev, tb, extack);
		if (err)
			return err;
	}

	conf = crapvpn_conf_new(cv, NULL, data, extack);
	if (IS_ERR(conf))
		return PTR_ERR(conf);
	/*
	 * Bind before registering, so that a busy port fails the request
	 * with nothing created; until the device is up, what it receives
	 * is dropped as rx_drop_down.
	 */
	port = crapvpn_port_find(src_net, &conf->p) ?:
	       crapvpn_port_open(src_net, &conf->p, extack);
	if (IS_ERR(port)) {
		crapvpn_conf_free(conf);
		return PTR_ERR(port);
	}
	err = crapvpn_port_admit(port, cv, conf, extack);
	if (err) {
		crapvpn_port_put(port);
		crapvpn_conf_free(conf);
		return err;
	}
	RCU_INIT_POINTER(cv->conf, conf);
	crapvpn_port_join(port, cv);
	crapvpn_port_hash(port, conf);
	crapvpn_port_update(port);

	if (!tb[IFLA_MTU] && crapvpn_sock_family(&conf->p) == AF_INET6)
		dev->mtu -= CRAPVPN_OVERHEAD6 - CRAPVPN_OVERHEAD4;

	err = register_netdevice(dev);
	if (err) {
		crapvpn_release(cv);
		return err;
	}
	list_add(&cv->list, crapvpn_net_devs(src_net));
	return 0;
}

#ifdef CRAPVPN_HAVE_NEWLINK_PARAMS
static int crapvpn_newlink(struct net_device *dev,
			   struct rtnl_newlink_params *params,
			   struct netlink_ext_ack *extack)
{
	return crapvpn_create(crapvpn_params_link_net(params), dev, params->tb,
			      params->data, extack);
}
#else
static int crapvpn_newlink(struct net *src_net, struct net_device *dev,
			   struct nlattr *tb[], struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	return crapvpn_create(src_net, dev, tb, data, extack);
}
#endif

static int crapvpn_changelink(struct net_device *dev, struct nlattr *tb[],
			      struct nlattr *data[],
			      struct netlink_ext_ack *extack)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	struct crapvpn_conf *old = rtnl_dereference(cv->conf);
	struct crapvpn_port *port = rtnl_dereference(cv->port);
	struct crapvpn_port *next = port;
	struct socket *stale = NULL;
	struct crapvpn_conf *conf;
	int err;

	/* Another link type would be another device (geneve refuses too). */
	if (data && data[IFLA_CRAPVPN_MODE] &&
	    crapvpn_mode_of(data) != cv->mode) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_CRAPVPN_MODE],
				    "crapvpn: the mode is fixed when the device is created");
		return -EOPNOTSUPP;
	}
	conf = crapvpn_conf_new(cv, old, data, extack);
	if (IS_ERR(conf))
		return PTR_ERR(conf);
	/* Without a socket (a rebind lost it) any change tries to bind. */
	if (!rtnl_dereference(port->sock) ||
	    !crapvpn_same_bind(&port->bind, &conf->p)) {
		next = crapvpn_port_get(cv, &conf->p, &stale, extack);
		if (IS_ERR(next)) {
			crapvpn_conf_free(conf);
			return PTR_ERR(next);
		}
	}
	err = crapvpn_port_admit(next, cv, conf, extack);
	if (err) {
		if (next != port)
			crapvpn_port_put(next);
		crapvpn_conf_free(conf);
		return err;
	}

	if (next != port) {
		crapvpn_port_leave(port, cv);
		crapvpn_port_join(next, cv);
	}
	crapvpn_port_hash(next, conf);
	rcu_assign_pointer(cv->conf, conf);
	crapvpn_port_unhash(old);
	crapvpn_port_update(next);
	synchronize_net();
	crapvpn_sock_close(stale);
	if (next != port)
		crapvpn_port_put(port);
	crapvpn_conf_free(old);
	return 0;
}

static void crapvpn_dellink(struct net_device *dev, struct list_head *head)
{
	unregister_netdevice_queue(dev, head);
}

static size_t crapvpn_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u8)) +		/* MODE */
	       nla_total_size(sizeof(u32)) +		/* KEY_LEN */
	       nla_total_size(sizeof(struct in6_addr)) +	/* PEER(6) */
	       nla_total_size(sizeof(u16)) +		/* PEER_PORT */
	       nla_total_size(sizeof(u16)) +		/* PORT */
	       nla_total_size(sizeof(u32)) +		/* PORT_DEVS */
	       nla_total_size(sizeof(struct in6_addr));	/* LOCAL(6) */
}

static int crapvpn_put_addr(struct sk_buff *skb, int type4, int type6,
			    const union crapvpn_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return nla_put_in_addr(skb, type4, a->sin.sin_addr.s_addr);
	if (a->sa.sa_family == AF_INET6)
		return nla_put_in6_addr(skb, type6, &a->sin6.sin6_addr);
	return 0;
}

/* Link dumps are world-readable: the key's length, never the key. */
static int crapvpn_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct crapvpn_dev *cv = netdev_priv(dev);
	const struct crapvpn_conf *conf = rtnl_dereference(cv->conf);
	const struct crapvpn_port *port = rtnl_dereference(cv->port);

	if (!conf || !port)
		return 0;
	if (nla_put_u8(skb, IFLA_CRAPVPN_MODE, cv->mode) ||
	    nla_put_u32(skb, IFLA_CRAPVPN_KEY_LEN, conf->ks->keylen) ||
	    crapvpn_put_addr(skb, IFLA_CRAPVPN_PEER, IFLA_CRAPVPN_PEER6,
			     &conf->p.peer) ||
	    nla_put_u16(skb, IFLA_CRAPVPN_PEER_PORT, conf->p.peer_port) ||
	    nla_put_u16(skb, IFLA_CRAPVPN_PORT, conf->p.port) ||
	    nla_put_u32(skb, IFLA_CRAPVPN_PORT_DEVS, port->ndevs) ||
	    crapvpn_put_addr(skb, IFLA_CRAPVPN_LOCAL, IFLA_CRAPVPN_LOCAL6,
			     &conf->p.local))
		return -EMSGSIZE;
	return 0;
}

static struct net *crapvpn_get_link_net(const struct net_device *dev)
{
	struct crapvpn_dev *cv = netdev_priv(dev);

	return cv->net;
}

static struct rtnl_link_ops crapvpn_link_ops __read_mostly = {
	.kind		= CRAPVPN_KIND,
	.maxtype	= IFLA_CRAPVPN_MAX,
	.policy		= crapvpn_policy,
	.priv_size	= sizeof(struct crapvpn_dev),
	.setup		= crapvpn_setup,
	.validate	= crapvpn_validate,
	.newlink	= crapvpn_newlink,
	.changelink	= crapvpn_changelink,
	.dellink	= crapvpn_dellink,
	.get_size	= crapvpn_get_size,
	.fill_info	= crapvpn_fill_info,
	.get_link_net	= crapvpn_get_link_net,
};

/* ---- Namespaces and module ---- */

/*
 * Kernel sockets hold no reference on their namespace, so a device must
 * not outlive the namespace its socket lives in: delete it, wherever the
 * device itself has moved.
 */
static int __net_init crapvpn_net_init(struct net *net)
{
	INIT_LIST_HEAD(crapvpn_net_devs(net));
	INIT_LIST_HEAD(crapvpn_net_ports(net));
	return 0;
}

static void __net_exit crapvpn_net_pre_exit(struct net *net)
{
	struct crapvpn_dev *cv;
	LIST_HEAD(kill);

	rtnl_lock();
	list_for_each_entry(cv, crapvpn_net_devs(net), list)
		unregister_netdevice_queue(cv->dev, &kill);
	unregister_netdevice_many(&kill);
	rtnl_unlock();
}

static struct pernet_operations crapvpn_net_ops = {
	.init = crapvpn_net_init,
	.pre_exit = crapvpn_net_pre_exit,
	.id = &crapvpn_net_id,
	.size = sizeof(struct crapvpn_net),
};

static int __init crapvpn_init(void)
{
	int err;

	crapvpn_simd_init();
	err = register_pernet_device(&crapvpn_net_ops);
	if (err)
		return err;
	err = rtnl_link_register(&crapvpn_link_ops);
	if (err)
		unregister_pernet_device(&crapvpn_net_ops);
	return err;
}

static void __exit crapvpn_exit(void)
{
	rtnl_link_unregister(&crapvpn_link_ops);
	unregister_pernet_device(&crapvpn_net_ops);
}

module_init(crapvpn_init);
module_exit(crapvpn_exit);
MODULE_DESCRIPTION("CrapVPN tunnel: XOR-obfuscated IP over UDP");
MODULE_LICENSE("GPL");
MODULE_VERSION(CRAPVPN_VERSION);
MODULE_ALIAS_RTNL_LINK(CRAPVPN_KIND);

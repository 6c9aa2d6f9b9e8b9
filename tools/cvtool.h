/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of crapvpn(8) share: crapvpn.c (main, the commands table,
 * rtnetlink, add/set/del/genkey and the compat mode), show.c and up.c.
 */
#ifndef CVTOOL_H
#define CVTOOL_H

#include <net/if.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>

#include "cvparse.h"

#define PROG		"crapvpn"
#define EXIT_USAGE	2
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* One crapvpn device as the kernel reports it. */
struct link {
	char name[IFNAMSIZ];
	int index, up;
	char kind[32];
	uint32_t mtu, key_len;
	int has_key_len, has_mtu, has_operstate, has_stats;
	uint8_t operstate;		/* IF_OPER_* */
	struct cv_addr peer, local;
	uint16_t peer_port, port;
	uint32_t port_devs;		/* devices on the port's socket */
	int l2;				/* mode l2 */
	struct rtnl_link_stats64 stats;
};

/* An interface address: local[/plen], with a point-to-point peer or not. */
struct cv_ifaddr {
	struct cv_addr local, peer;	/* peer.family 0: none */
	unsigned int plen;
};

extern struct cv_config cfg;		/* what add, set, up and -k send */
extern const char *cmd_dev;		/* the device the command works on */
extern char subject[64];		/* "CMD DEV": what its messages start with */

void __attribute__((noreturn, format(printf, 2, 3)))
fail(int status, const char *fmt, ...);
#define usage_error(...)	fail(EXIT_USAGE, __VA_ARGS__)
#define die(...)		fail(EXIT_FAILURE, __VA_ARGS__)
int is_help(const char *s);
int help(void);
void check_dev(const char *cmd, const char *name);

void nl_open(void);
struct nlmsghdr *new_msg(uint16_t type, uint16_t flags);
struct nlmsghdr *link_msg(uint16_t type, uint16_t flags, const char *dev,
			  int index);
int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
void report(const char *what, int err);
void must(const char *what, int err);

int send_cfg(uint16_t flags, const char *dev, int index);
int del_link(const char *dev, int index);
int create_link(int find);
int set_up(int index);
int addr_msg(uint16_t type, int index, const struct cv_ifaddr *a);
void parse_link(const struct nlmsghdr *nlh, struct link *l);
int is_crapvpn(const struct link *l);
int get_link(const char *dev, struct link *l, int stats);
void get_crapvpn_link(struct link *l, int stats);

int cmd_show(const char *cmd, int argc, char **argv);
int cmd_up(const char *cmd, int argc, char **argv);
int cmd_down(const char *cmd, int argc, char **argv);

#endif

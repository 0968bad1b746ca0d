/* privs.c - keep CAP_NET_ADMIN and CAP_NET_RAW, drop the rest.
 * capset(2) directly: the two capability words are all it takes. */
#include "config.h"
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "pmtud.h"
#include "privs.h"

#define CAP_BIT(c)	(UINT64_C(1) << (c))
#define KEEP		(CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_NET_RAW))

struct caps {
	uint64_t eff, prm, inh;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d) < 0)
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct caps *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	d[0].effective = (uint32_t)c->eff;
	d[0].permitted = (uint32_t)c->prm;
	d[0].inheritable = (uint32_t)c->inh;
	d[1].effective = (uint32_t)(c->eff >> 32);
	d[1].permitted = (uint32_t)(c->prm >> 32);
	d[1].inheritable = (uint32_t)(c->inh >> 32);
	return (int)syscall(SYS_capset, &hdr, d);
}

/* Returns 1 when it was dropped entirely, 0 when left (no CAP_SETPCAP),
 * -1 on other errors. */
static int bounding_drop(char *err, size_t errlen)
{
	int cap, r;

	/* PR_CAPBSET_READ fails (EINVAL) past the kernel's last cap. */
	for (cap = 0; (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++) {
		if (r == 0 || (KEEP & CAP_BIT(cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EPERM)
			return 0;
		snprintf(err, errlen, "PR_CAPBSET_DROP %d: %s", cap, strerror(errno));
		return -1;
	}
	return 1;
}

static int switch_user(const struct passwd *pw, char *err, size_t errlen)
{
	gid_t gid = pw->pw_gid;

	/* Keep the permitted set across setuid(); effective is re-raised
	 * by the capset that follows. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "switching to user %s (uid %u, gid %u): %s",
			 pw->pw_name, (unsigned)pw->pw_uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_KEEPCAPS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void names(uint64_t set, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s",
		 set & CAP_BIT(CAP_NET_ADMIN) ? "CAP_NET_ADMIN" : "",
		 (set & KEEP) == KEEP ? "," : "",
		 set & CAP_BIT(CAP_NET_RAW) ? "CAP_NET_RAW" : "",
		 set & KEEP ? "" : "none");
}

int privs_drop(const char *user, char *summary, size_t slen,
	       char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	struct caps cur, want;
	const char *note_b = "", *note_c = "";
	char kept[32];
	int b;

	if (user && user[0]) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			/* getpwnam(3): these errno values also mean "not found". */
			bool none = errno == 0 || errno == ENOENT || errno == ESRCH ||
				    errno == EBADF || errno == EPERM;

			snprintf(err, errlen, "user %s: %s", user,
				 none ? "no such user" : strerror(errno));
			return EXIT_CONFIG;
		}
	}
	b = bounding_drop(err, errlen);
	if (b < 0)
		return EXIT_RUNTIME;
	if (b == 0)
		note_b = "; bounding set left as is (no CAP_SETPCAP)";
	if (pw && switch_user(pw, err, errlen) < 0)
		return EXIT_RUNTIME;
	if (caps_get(&cur) < 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	want.prm = want.eff = cur.prm & KEEP;
	want.inh = 0;
	if (caps_set(&want) < 0) {
		/* Nothing more than the two held: a seccomp filter refusing
		 * capset (systemd's ~@privileged) costs only the inheritable
		 * set, which no execve of ours ever uses. */
		if ((cur.prm & ~KEEP) || errno != EPERM) {
			snprintf(err, errlen, "capset: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		note_c = "; capset refused, inheritable set left as is";
	}
	/* EINVAL: a kernel without ambient capabilities has none to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "clearing ambient capabilities: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (caps_get(&cur) < 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	names(cur.eff, kept, sizeof(kept));
	snprintf(summary, slen, "privileges: kept %s; running as uid %u%s%s%s%s%s",
		 kept, (unsigned)getuid(), pw ? " (" : "", pw ? pw->pw_name : "",
		 pw ? ")" : "", note_b, note_c);
	return EXIT_OK;
}

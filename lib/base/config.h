/* pwb.conf: `key=value` lines, `#` comments, whitespace trimmed. Every key
 * is known here with its type, default and range; an unknown key, a bad
 * value or a duplicate is an error naming file, line and key. Key names
 * follow Posit Workbench's rserver.conf where it has the same setting. */
#ifndef PWB_CONFIG_H
#define PWB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"

#ifndef PWB_SYSCONFDIR
#define PWB_SYSCONFDIR "/etc"
#endif
#ifndef PWB_LOCALSTATEDIR
#define PWB_LOCALSTATEDIR "/var"
#endif

#define PWB_CONFIG_DEFAULT_PATH PWB_SYSCONFDIR "/pwb/pwb.conf"
#define PWB_DB_DIR_DEFAULT	PWB_LOCALSTATEDIR "/lib/pwb"
/* Group names never provisioned (sudoers, docker, lxd and the like grant
 * root or read secrets); the key replaces this list, local names are
 * refused whatever it says. */
#define PWB_GROUP_DENY_NAMES_DEFAULT                                                               \
	"root,adm,admin,wheel,sudo,sudoers,staff,shadow,disk,docker,lxd,libvirt,kvm,"              \
	"systemd-journal"

struct pwb_config {
	char *path; /* the file this came from (NULL: defaults only) */

	/* store and NSS */
	char *db_dir;		/* db-dir */
	char *store_user;	/* store-user: obsolete (the store is root's); accepted, ignored */
	uint32_t nss_delta_max; /* nss-delta-max: keys in the small delta before merging */
	uint32_t nss_mid_max;	/* nss-mid-max: keys in the middle level before a full base */

	/* provisioning */
	bool provisioning_enabled;    /* user-provisioning-enabled */
	bool register_on_first_login; /* user-provisioning-register-on-first-login */
	uint32_t start_uid;	      /* user-provisioning-start-uid */
	uint32_t end_uid;	      /* user-provisioning-end-uid */
	uint32_t start_gid;	      /* group-provisioning-start-gid */
	uint32_t end_gid;	      /* group-provisioning-end-gid */
	char *homedir_path;	      /* user-homedir-path */
	char *homedir_allowed_roots;  /* user-homedir-allowed-roots, comma list or NULL */
	char *group_deny_names;	      /* group-provisioning-deny-names, comma list */
	char *default_shell;	      /* user-provisioning-default-shell */

	/* OpenID Connect */
	char *openid_issuer;		  /* auth-openid-issuer */
	char *openid_client_secret_file;  /* auth-openid-client-secret-file */
	char *openid_username_claim;	  /* auth-openid-username-claim */
	char *openid_subject_claim;	  /* auth-openid-subject-claim: the immutable id */
	bool openid_bind_existing_users;  /* auth-openid-bind-existing-users */
	uint32_t openid_cache_max_age;	  /* auth-openid-cache-max-age, seconds */
	char *openid_groups_claim;	  /* auth-openid-groups-claim */
	char *openid_ca_file;		  /* auth-openid-ca-file (NULL: system CAs) */
	uint32_t openid_leeway;		  /* auth-openid-leeway, seconds */
	char *openid_algorithms;	  /* auth-openid-algorithms, comma list */
	char *openid_username_domains;	  /* auth-openid-username-domains, comma list or NULL */
	bool openid_allow_local_accounts; /* auth-openid-allow-local-accounts */
	uint32_t openid_jwks_refresh_min; /* auth-openid-jwks-refresh-interval, seconds */
	uint32_t openid_cache_ttl;    /* auth-openid-cache-ttl, seconds, when no Cache-Control */
	uint32_t openid_http_timeout; /* auth-openid-http-timeout, seconds */
	char *secure_key_file;	      /* secure-key-file */

	/* SCIM */
	char *scim_base_path;		 /* scim-base-path */
	uint32_t scim_max_request_bytes; /* scim-max-request-bytes */

	/* pwbd, the one store writer */
	char *pwbd_socket;		    /* pwbd-socket: where clients reach pwbd */
	uint32_t pwbd_timeout;		    /* pwbd-timeout: seconds a client waits for a reply */
	char *scim_user;		    /* scim-user: the account pwb-scim runs as */
	char *login_user;		    /* login-user: the account pwb-login runs as */
	uint32_t change_log_retention_days; /* change-log-retention-days */
	uint32_t change_log_retention_entries; /* change-log-retention-entries */

	/* pwb-login, the browser front door (and the audiences every token
	 * check accepts) */
	char *openid_audiences;	       /* auth-openid-audiences: extra client ids, comma list */
	char *openid_base_uri;	       /* auth-openid-base-uri: public base URL (https://host) */
	char *openid_login_path;       /* auth-openid-login-path: route prefix, "/pwb/" */
	char *openid_scopes;	       /* auth-openid-scopes, space separated */
	char *openid_token_method;     /* auth-openid-token-method: client_secret_basic|_post */
	char *openid_post_logout_uri;  /* auth-openid-post-logout-redirect-uri */
	char *openid_pam_service;      /* auth-openid-pam-service */
	char *openid_session_dir;      /* auth-openid-session-dir: pwb-login's own 0700 dir */
	uint32_t auth_timeout_minutes; /* auth-timeout-minutes: idle lifetime */
	uint32_t openid_session_max_hours; /* auth-openid-session-max-hours: absolute */
	uint32_t openid_flow_timeout;	   /* auth-openid-flow-timeout: seconds a flow lives */
	uint32_t openid_max_pending_flows; /* auth-openid-max-pending-flows */
	char *openid_trusted_proxies;	   /* auth-openid-trusted-proxies: addresses, comma list */

	/* group names as IdPs send them (names.h: pwb_names_group_from_display) */
	char *group_space_replacement; /* group-name-space-replacement: one of _ - . */

	/* terminal sign-in (pam_pwb_oidc device: RFC 8628) */
	char *openid_device_client_file;  /* auth-openid-device-client-file: client-id=,
					     client-secret= */
	char *openid_device_token_method; /* auth-openid-device-token-method:
					     auto|none|client_secret_basic|client_secret_post */
	uint32_t openid_device_timeout;	  /* auth-openid-device-timeout: seconds, cap on one flow */
	uint32_t openid_device_max_flows; /* auth-openid-device-max-flows: per host */
	uint32_t openid_device_max_flows_per_address; /* ...-per-address: per remote address */
	bool openid_device_qr; /* auth-openid-device-qr: QR code after the URL */

	/* operability */
	char *scim_metrics_path;       /* scim-metrics-path: Prometheus endpoint path, NULL = off */
	char *scim_metrics_token_file; /* scim-metrics-token-file: its bearer token; NULL = loopback
					  only */

	/* sign-in cost */

	/* cluster mode (store-backend=postgresql; issue 15) */
	char *store_backend;	   /* store-backend: "berkeleydb" (default) or "postgresql" */
	char *store_dsn;	   /* store-dsn: libpq connection string (no password in it) */
	char *store_password_file; /* store-password-file: the DSN role's password, 0600 */
	uint32_t store_timeout;	   /* store-timeout: seconds a cluster write keeps retrying */
	char *cluster_role;	   /* cluster-role: "writer" (default) or "reader" */
	char *cluster_host_name;   /* cluster-host-name: this host's name (NULL: hostname) */
	uint32_t cluster_poll_ms;  /* cluster-poll-interval: ms between polls besides LISTEN */
	uint32_t cluster_apply_ms; /* cluster-apply-wait: ms a write waits for the replica */
};

/* True when cfg puts the store in PostgreSQL (cluster mode). */
bool pwb_config_cluster(const struct pwb_config *cfg);

/* The path to use: explicit (config= argument) if non-NULL, else
 * $PWB_CONFIG (secure_getenv), else PWB_CONFIG_DEFAULT_PATH. */
const char *pwb_config_path(const char *explicit_path);

/* Fills cfg with defaults, then the file. A missing file is an error unless
 * allow_missing is true (then defaults stand). On error cfg is cleared. */
int pwb_config_load(const char *path, bool allow_missing, struct pwb_config *cfg,
		    struct pwb_error *err);

/* Defaults only, no file. */
int pwb_config_defaults(struct pwb_config *cfg);

/* Parses text already in memory; `origin` names it in messages. */
int pwb_config_parse(const char *text, const char *origin, struct pwb_config *cfg,
		     struct pwb_error *err);

void pwb_config_free(struct pwb_config *cfg);

/* The known keys, for listings (`pwbadm check`) and tests: key i's name,
 * or NULL past the end; a key's current value as text ("" when unset). */
const char *pwb_config_key_name(size_t i);
int pwb_config_value_text(const struct pwb_config *cfg, const char *key, char *out, size_t len);

/* Reads just db-dir, without allocating more than needed and without
 * failing on keys of other components: for the NSS module. out must hold
 * PATH_MAX bytes. Returns 0, -ENOENT (no such file or no db-dir line:
 * use the default) or another negative errno. */
int pwb_config_read_db_dir(const char *path, char *out, size_t outlen);

/* What nss_pwb needs from pwb.conf: where the snapshot lies and the id
 * ranges pwb may hand out (the module serves no entry outside them). */
struct pwb_nss_config {
	char db_dir[4096]; /* db-dir (PATH_MAX bytes) */
	uint32_t start_uid, end_uid, start_gid, end_gid;
	const char *bad; /* on -EINVAL: the key (or "a line") that was refused */
};

/* Reads db-dir and the four id range keys with the defaults and bounds of
 * the full parser, ignoring other components' keys, without allocating
 * (for the NSS module). out holds the defaults first. Returns 0; -ENOENT
 * when there is no such file (the defaults stand); -EINVAL for a malformed
 * or out-of-bounds value of one of these keys, a duplicate of one, a start
 * above its end or an overlong line (out->bad names it); or another
 * negative errno. */
int pwb_config_read_nss(const char *path, struct pwb_nss_config *out);

#endif

/* pwb.conf parser: a table of every key with its type, default and range,
 * so that parsing, defaults and error messages come from one place. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"
#include "config.h"
#include "fileio.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_LINE	 4096

enum key_type {
	KEY_STRING,
	KEY_PATH,
	KEY_BOOL,
	KEY_U32
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def; /* default as text; NULL: unset */
	uint32_t min, max;
};

#define STR(k, f, d)                                                                               \
	{                                                                                          \
		k, KEY_STRING, offsetof(struct pwb_config, f), d, 0, 0                             \
	}
#define PATH(k, f, d)                                                                              \
	{                                                                                          \
		k, KEY_PATH, offsetof(struct pwb_config, f), d, 0, 0                               \
	}
#define BOOL(k, f, d)                                                                              \
	{                                                                                          \
		k, KEY_BOOL, offsetof(struct pwb_config, f), d, 0, 1                               \
	}
#define U32(k, f, d, lo, hi)                                                                       \
	{                                                                                          \
		k, KEY_U32, offsetof(struct pwb_config, f), d, lo, hi                              \
	}

static const struct key keys[] = {
    PATH("db-dir", db_dir, PWB_DB_DIR_DEFAULT),
    STR("store-user", store_user, "pwb"),
    U32("nss-delta-max", nss_delta_max, "256", 16, 1000000),
    U32("nss-mid-max", nss_mid_max, "16384", 64, 100000000),
    BOOL("user-provisioning-enabled", provisioning_enabled, "0"),
    BOOL("user-provisioning-register-on-first-login", register_on_first_login, "0"),
    U32("user-provisioning-start-uid", start_uid, "1000", 1, 4294967294u),
    U32("user-provisioning-end-uid", end_uid, "60000", 1, 4294967294u),
    U32("group-provisioning-start-gid", start_gid, "1000", 1, 4294967294u),
    U32("group-provisioning-end-gid", end_gid, "60000", 1, 4294967294u),
    PATH("user-homedir-path", homedir_path, "/home"),
    STR("user-homedir-allowed-roots", homedir_allowed_roots, NULL),
    STR("group-provisioning-deny-names", group_deny_names, PWB_GROUP_DENY_NAMES_DEFAULT),
    PATH("user-provisioning-default-shell", default_shell, "/bin/bash"),
    STR("auth-openid-issuer", openid_issuer, NULL),
    PATH("auth-openid-client-secret-file", openid_client_secret_file,
	 PWB_SYSCONFDIR "/pwb/openid-client-secret"),
    STR("auth-openid-username-claim", openid_username_claim, "preferred_username"),
    STR("auth-openid-groups-claim", openid_groups_claim, "groups"),
    STR("auth-openid-subject-claim", openid_subject_claim, "sub"),
    BOOL("auth-openid-bind-existing-users", openid_bind_existing_users, "0"),
    U32("auth-openid-cache-max-age", openid_cache_max_age, "86400", 0, 365 * 86400),
    PATH("auth-openid-ca-file", openid_ca_file, NULL),
    U32("auth-openid-leeway", openid_leeway, "60", 0, 3600),
    STR("auth-openid-algorithms", openid_algorithms, "RS256,ES256"),
    STR("auth-openid-username-domains", openid_username_domains, NULL),
    BOOL("auth-openid-allow-local-accounts", openid_allow_local_accounts, "0"),
    U32("auth-openid-jwks-refresh-interval", openid_jwks_refresh_min, "60", 0, 86400),
    U32("auth-openid-cache-ttl", openid_cache_ttl, "3600", 0, 7 * 86400),
    U32("auth-openid-http-timeout", openid_http_timeout, "5", 1, 120),
    PATH("secure-key-file", secure_key_file, PWB_SYSCONFDIR "/pwb/secure-key"),
    PATH("scim-base-path", scim_base_path, "/scim/v2"),
    U32("scim-max-request-bytes", scim_max_request_bytes, "1048576", 1024, 64 * 1024 * 1024),
    PATH("pwbd-socket", pwbd_socket, "/run/pwb/pwbd.sock"),
    U32("pwbd-timeout", pwbd_timeout, "30", 1, 3600),
    STR("scim-user", scim_user, "pwb-scim"),
    STR("login-user", login_user, "pwb-login"),
    U32("change-log-retention-days", change_log_retention_days, "365", 1, 36500),
    U32("change-log-retention-entries", change_log_retention_entries, "1000000", 1000, 4000000000u),
    STR("auth-openid-audiences", openid_audiences, NULL),
    STR("auth-openid-base-uri", openid_base_uri, NULL),
    PATH("auth-openid-login-path", openid_login_path, "/pwb/"),
    STR("auth-openid-scopes", openid_scopes, "openid profile email"),
    STR("auth-openid-token-method", openid_token_method, "client_secret_basic"),
    STR("auth-openid-post-logout-redirect-uri", openid_post_logout_uri, NULL),
    STR("auth-openid-pam-service", openid_pam_service, "pwb-login"),
    PATH("auth-openid-session-dir", openid_session_dir, PWB_LOCALSTATEDIR "/lib/pwb-login"),
    U32("auth-timeout-minutes", auth_timeout_minutes, "60", 1, 525600),
    U32("auth-openid-session-max-hours", openid_session_max_hours, "12", 1, 8760),
    U32("auth-openid-flow-timeout", openid_flow_timeout, "600", 30, 3600),
    U32("auth-openid-max-pending-flows", openid_max_pending_flows, "1000", 1, 1000000),
    STR("auth-openid-trusted-proxies", openid_trusted_proxies, NULL),
    STR("group-name-space-replacement", group_space_replacement, "_"),
    /* terminal sign-in: the device authorization grant (pam_pwb_oidc device) */
    PATH("auth-openid-device-client-file", openid_device_client_file, NULL),
    STR("auth-openid-device-token-method", openid_device_token_method, "auto"),
    U32("auth-openid-device-timeout", openid_device_timeout, "300", 30, 1800),
    U32("auth-openid-device-max-flows", openid_device_max_flows, "32", 1, 10000),
    U32("auth-openid-device-max-flows-per-address", openid_device_max_flows_per_address, "3", 1,
	10000),
    BOOL("auth-openid-device-qr", openid_device_qr, "0"),
    /* operability: pwb-scim's Prometheus endpoint (off unless a path is set) */
    PATH("scim-metrics-path", scim_metrics_path, NULL),
    PATH("scim-metrics-token-file", scim_metrics_token_file, NULL),
    /* sign-in cost */
    /* cluster mode: one PostgreSQL store shared by several hosts */
    STR("store-backend", store_backend, "berkeleydb"),
    STR("store-dsn", store_dsn, NULL),
    PATH("store-password-file", store_password_file, NULL),
    U32("store-timeout", store_timeout, "10", 1, 600),
    STR("cluster-role", cluster_role, "writer"),
    STR("cluster-host-name", cluster_host_name, NULL),
    U32("cluster-poll-interval", cluster_poll_ms, "1000", 50, 60000),
    U32("cluster-apply-wait", cluster_apply_ms, "5000", 0, 60000),
};

const char *pwb_config_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path && *explicit_path)
		return explicit_path;
	env = secure_getenv("PWB_CONFIG");
	if (env && *env)
		return env;
	return PWB_CONFIG_DEFAULT_PATH;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_u32(const char *v, uint32_t *out)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || n > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)n;
	return 0;
}

/* Stores one value; on error fills err naming origin, line and key. */
static int set_value(struct pwb_config *cfg, const struct key *k, const char *value,
		     const char *origin, unsigned line, struct pwb_error *err)
{
	void *field = (char *)cfg + k->offset;
	uint32_t n;
	bool b;
	char *copy;

	switch (k->type) {
	case KEY_PATH:
		if (value[0] != '/')
			return pwb_error_set(err, PWB_ECONFIG,
					     "%s: line %u: %s: must be an absolute path", origin,
					     line, k->name);
		/* fall through */
	case KEY_STRING:
		copy = strdup(value);
		if (!copy)
			return pwb_error_set(err, -ENOMEM, "out of memory");
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	case KEY_BOOL:
		if (parse_bool(value, &b) < 0)
			return pwb_error_set(err, PWB_ECONFIG,
					     "%s: line %u: %s: '%s' is not a boolean (use 0 or 1)",
					     origin, line, k->name, value);
		*(bool *)field = b;
		return 0;
	case KEY_U32:
		if (parse_u32(value, &n) < 0)
			return pwb_error_set(err, PWB_ECONFIG,
					     "%s: line %u: %s: '%s' is not a number", origin, line,
					     k->name, value);
		if (n < k->min || n > k->max)
			return pwb_error_set(err, PWB_ECONFIG,
					     "%s: line %u: %s: %u is out of range (%u-%u)", origin,
					     line, k->name, n, k->min, k->max);
		*(uint32_t *)field = n;
		return 0;
	}
	return pwb_error_set(err, PWB_ECONFIG, "internal: bad key type");
}

static const struct key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int pwb_config_defaults(struct pwb_config *cfg)
{
	struct pwb_error err;
	size_t i;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < PWB_ARRAY_SIZE(keys); i++) {
		if (!keys[i].def)
			continue;
		r = set_value(cfg, &keys[i], keys[i].def, "defaults", 0, &err);
		if (r < 0) {
			pwb_config_free(cfg);
			return r;
		}
	}
	return 0;
}

/* A host name as cluster-host-name takes it: it names this host in the
 * cluster's tables and in log lines, so nothing else may stand in it. */
static bool host_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* Cross-key rules, checked once the whole file is read. */
static int check_ranges(const struct pwb_config *cfg, const char *origin, struct pwb_error *err)
{
	if (cfg->start_uid > cfg->end_uid)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: user-provisioning-start-uid (%u) is above "
				     "user-provisioning-end-uid (%u)",
				     origin, cfg->start_uid, cfg->end_uid);
	if (cfg->start_gid > cfg->end_gid)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: group-provisioning-start-gid (%u) is above "
				     "group-provisioning-end-gid (%u)",
				     origin, cfg->start_gid, cfg->end_gid);
	if (cfg->nss_mid_max <= cfg->nss_delta_max)
		return pwb_error_set(err, PWB_ECONFIG, "%s: nss-mid-max must exceed nss-delta-max",
				     origin);
	/* One character that may stand inside a Linux name: the derived name
	 * of "Data Scientists" must itself pass the name rule. */
	if (!cfg->group_space_replacement || strlen(cfg->group_space_replacement) != 1 ||
	    !strchr("_.-", cfg->group_space_replacement[0]))
		return pwb_error_set(
		    err, PWB_ECONFIG,
		    "%s: group-name-space-replacement must be one of '_', '-', '.'", origin);
	if (strcmp(cfg->store_backend, "berkeleydb") != 0 &&
	    strcmp(cfg->store_backend, "postgresql") != 0)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: store-backend must be berkeleydb or postgresql, not '%s'",
				     origin, cfg->store_backend);
	if (strcmp(cfg->cluster_role, "writer") != 0 && strcmp(cfg->cluster_role, "reader") != 0)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: cluster-role must be writer or reader, not '%s'", origin,
				     cfg->cluster_role);
	if (pwb_config_cluster(cfg) && (!cfg->store_dsn || !*cfg->store_dsn))
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: store-backend=postgresql needs store-dsn", origin);
	if (cfg->cluster_host_name && !host_name_ok(cfg->cluster_host_name))
		return pwb_error_set(
		    err, PWB_ECONFIG,
		    "%s: cluster-host-name '%s' is not a host name (letters, digits, "
		    "'-', '.', at most 63)",
		    origin, cfg->cluster_host_name);
	return 0;
}

bool pwb_config_cluster(const struct pwb_config *cfg)
{
	return cfg->store_backend && strcmp(cfg->store_backend, "postgresql") == 0;
}

int pwb_config_parse(const char *text, const char *origin, struct pwb_config *cfg,
		     struct pwb_error *err)
{
	bool seen[PWB_ARRAY_SIZE(keys)] = {false};
	const char *p = text;
	unsigned line = 0;
	int r;

	while (*p) {
		char buf[CONFIG_MAX_LINE];
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const struct key *k;
		char *s, *eq, *key, *value;

		line++;
		if (len >= sizeof(buf))
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: line too long", origin,
					     line);
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		if (memchr(buf, '\0', len))
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: NUL byte", origin,
					     line);
		s = trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return pwb_error_set(err, PWB_ECONFIG,
					     "%s: line %u: expected key=value, got no '='", origin,
					     line);
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		k = find_key(key);
		if (!k) {
			char shown[64];

			snprintf(shown, sizeof(shown), "%s", key);
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: unknown key '%s'",
					     origin, line, shown);
		}
		if (seen[k - keys])
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: duplicate key '%s'",
					     origin, line, k->name);
		seen[k - keys] = true;
		if (*value == '\0')
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: %s: empty value",
					     origin, line, k->name);
		r = set_value(cfg, k, value, origin, line, err);
		if (r < 0)
			return r;
	}
	return check_ranges(cfg, origin, err);
}

/* Reads a whole small file; refuses oversized input. */
static int read_file(const char *path, char **out, struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t used;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return pwb_error_set(err, PWB_ECONFIG, "%s: not a regular file", path);
	if (st.st_size > CONFIG_MAX_BYTES)
		return pwb_error_set(err, PWB_ECONFIG, "%s: larger than %d bytes", path,
				     CONFIG_MAX_BYTES);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	used = pwb_read_all(fd, buf, (size_t)st.st_size);
	if (used < 0)
		return pwb_error_set(err, (int)used, "%s: %s", path, strerror((int)-used));
	buf[used] = '\0';
	if (strlen(buf) != (size_t)used)
		return pwb_error_set(err, PWB_ECONFIG, "%s: contains a NUL byte", path);
	*out = PWB_TAKE_PTR(buf);
	return 0;
}

int pwb_config_load(const char *path, bool allow_missing, struct pwb_config *cfg,
		    struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	path = pwb_config_path(path);
	r = pwb_config_defaults(cfg);
	if (r < 0)
		return pwb_error_set(err, r, "out of memory");
	cfg->path = strdup(path);
	if (!cfg->path) {
		pwb_config_free(cfg);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	r = read_file(path, &text, err);
	if (r == -ENOENT && allow_missing)
		return 0;
	if (r == 0)
		r = pwb_config_parse(text, path, cfg, err);
	if (r < 0)
		pwb_config_free(cfg);
	return r;
}

void pwb_config_free(struct pwb_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < PWB_ARRAY_SIZE(keys); i++) {
		if (keys[i].type == KEY_STRING || keys[i].type == KEY_PATH) {
			char **field = (char **)((char *)cfg + keys[i].offset);

			free(*field);
			*field = NULL;
		}
	}
	free(cfg->path);
	cfg->path = NULL;
}

const char *pwb_config_key_name(size_t i)
{
	return i < PWB_ARRAY_SIZE(keys) ? keys[i].name : NULL;
}

int pwb_config_value_text(const struct pwb_config *cfg, const char *key, char *out, size_t len)
{
	const struct key *k = find_key(key);
	const void *field;

	if (!k)
		return -ENOENT;
	field = (const char *)cfg + k->offset;
	switch (k->type) {
	case KEY_STRING:
	case KEY_PATH:
		snprintf(out, len, "%s", *(char *const *)field ? *(char *const *)field : "");
		break;
	case KEY_BOOL:
		snprintf(out, len, "%d", *(const bool *)field ? 1 : 0);
		break;
	case KEY_U32:
		snprintf(out, len, "%u", *(const uint32_t *)field);
		break;
	}
	return 0;
}

int pwb_config_read_db_dir(const char *path, char *out, size_t outlen)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[CONFIG_MAX_LINE];

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *value;
		size_t len = strlen(s);

		if (len && s[len - 1] == '\n')
			s[--len] = '\0';
		s = trim(s);
		if (*s == '#' || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		if (strcmp(trim(s), "db-dir") != 0)
			continue;
		value = trim(eq + 1);
		if (value[0] != '/' || strlen(value) >= outlen)
			return -EINVAL;
		memcpy(out, value, strlen(value) + 1);
		return 0;
	}
	return -ENOENT;
}

int pwb_config_read_nss(const char *path, struct pwb_nss_config *out)
{
	static const char *const id_keys[] = {
	    "user-provisioning-start-uid",
	    "user-provisioning-end-uid",
	    "group-provisioning-start-gid",
	    "group-provisioning-end-gid",
	};
	uint32_t *ids[] = {&out->start_uid, &out->end_uid, &out->start_gid, &out->end_gid};
	bool seen[PWB_ARRAY_SIZE(id_keys) + 1] = {false}; /* the ids, then db-dir */
	_cleanup_fclose_ FILE *f = NULL;
	char line[CONFIG_MAX_LINE];
	size_t i;

	memset(out, 0, sizeof(*out));
	snprintf(out->db_dir, sizeof(out->db_dir), "%s", PWB_DB_DIR_DEFAULT);
	for (i = 0; i < PWB_ARRAY_SIZE(id_keys); i++)
		if (parse_u32(find_key(id_keys[i])->def, ids[i]) < 0)
			return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *value;
		size_t len = strlen(line);
		const struct key *k;
		uint32_t n;

		/* A line cut in two could read as a key of its own: refuse it,
		 * as the full parser does. */
		if (len == sizeof(line) - 1 && line[len - 1] != '\n' && getc(f) != EOF) {
			out->bad = "a line";
			return -EINVAL;
		}
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		s = trim(line);
		if (*s == '#' || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		k = find_key(trim(s));
		value = trim(eq + 1);
		if (!k)
			continue;
		if (strcmp(k->name, "db-dir") == 0) {
			if (seen[PWB_ARRAY_SIZE(id_keys)] || value[0] != '/' ||
			    strlen(value) >= sizeof(out->db_dir)) {
				out->bad = k->name;
				return -EINVAL;
			}
			seen[PWB_ARRAY_SIZE(id_keys)] = true;
			memcpy(out->db_dir, value, strlen(value) + 1);
			continue;
		}
		for (i = 0; i < PWB_ARRAY_SIZE(id_keys); i++) {
			if (strcmp(k->name, id_keys[i]) != 0)
				continue;
			if (seen[i] || parse_u32(value, &n) < 0 || n < k->min || n > k->max) {
				out->bad = k->name;
				return -EINVAL;
			}
			seen[i] = true;
			*ids[i] = n;
		}
	}
	if (ferror(f))
		return -EIO;
	if (out->start_uid > out->end_uid) {
		out->bad = id_keys[0];
		return -EINVAL;
	}
	if (out->start_gid > out->end_gid) {
		out->bad = id_keys[2];
		return -EINVAL;
	}
	return 0;
}

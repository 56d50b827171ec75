/* Where homes may lie, which shells and group names may be set: checks on
 * values from outside that need only the configuration and /etc/shells. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cleanup.h"
#include "names.h"
#include "policy.h"

#define HOME_MAX 1024

bool pwb_id_reserved(uint32_t id)
{
	return id == 0 || id == 65534 || id == 65535 || (id >= 61184 && id <= 65519) ||
	       id == UINT32_MAX;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Folds "//" and "/./" and drops a trailing '/'; refuses "..". */
static int normalise(const char *in, char *out, size_t outlen)
{
	const char *p = in;
	size_t used = 0;

	if (in[0] != '/')
		return -EINVAL;
	while (*p) {
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (used + 1 + len + 1 > outlen)
			return -ENAMETOOLONG;
		out[used++] = '/';
		memcpy(out + used, p, len);
		used += len;
		p = end;
	}
	if (used == 0)
		out[used++] = '/';
	out[used] = '\0';
	return 0;
}

/* True if path lies strictly below root (both normalised). */
static bool strictly_below(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[1] != '\0';
	return strncmp(path, root, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

static bool below_root_text(const char *path, const char *root_text)
{
	char root[HOME_MAX];

	return normalise(root_text, root, sizeof(root)) == 0 && strictly_below(path, root);
}

/* Calls match on each trimmed, non-empty item of a comma list. */
static bool list_any(const char *list, const char *item,
		     bool (*match)(const char *item, const char *entry))
{
	_cleanup_free_ char *copy = list ? strdup(list) : NULL;
	char *save = NULL, *tok;

	if (!copy)
		return false;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok && match(item, tok))
			return true;
	}
	return false;
}

int pwb_policy_home(const struct pwb_config *cfg, const char *home, char **out,
		    struct pwb_error *err)
{
	char norm[HOME_MAX], shown[96];
	bool ok;

	*out = NULL;
	pwb_names_escape(home ? home : "", shown, sizeof(shown));
	if (!home || strchr(home, ':') || has_control(home) ||
	    normalise(home, norm, sizeof(norm)) < 0)
		return pwb_error_set(err, PWB_EINVAL,
				     "homeDirectory '%s' must be an absolute path without '..', "
				     "':' or control characters",
				     shown);
	ok = (cfg->homedir_path && below_root_text(norm, cfg->homedir_path)) ||
	     (cfg->homedir_allowed_roots &&
	      list_any(cfg->homedir_allowed_roots, norm, below_root_text));
	if (!ok)
		return pwb_error_set(err, PWB_EINVAL,
				     "homeDirectory '%s' is not below user-homedir-path (%s) or "
				     "user-homedir-allowed-roots",
				     shown, cfg->homedir_path ? cfg->homedir_path : "unset");
	*out = strdup(norm);
	if (!*out)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int pwb_policy_shell(const char *shell, struct pwb_error *err)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[PATH_MAX], shown[96];

	pwb_names_escape(shell ? shell : "", shown, sizeof(shown));
	if (!shell || shell[0] != '/')
		return pwb_error_set(err, PWB_EINVAL, "loginShell '%s' is not an absolute path",
				     shown);
	f = fopen(PWB_SHELLS_FILE, "re");
	if (!f)
		return pwb_error_set(err, PWB_EINVAL,
				     "loginShell '%s' refused: cannot read " PWB_SHELLS_FILE ": %s",
				     shown, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '/' && strcmp(line, shell) == 0)
			return 0;
	}
	return pwb_error_set(err, PWB_EINVAL, "loginShell '%s' is not listed in " PWB_SHELLS_FILE,
			     shown);
}

static bool same_name(const char *name, const char *entry)
{
	return strcasecmp(name, entry) == 0;
}

int pwb_policy_group_name(const struct pwb_config *cfg, const char *name, struct pwb_error *err)
{
	char shown[96];

	if (!list_any(cfg->group_deny_names, name, same_name))
		return 0;
	pwb_names_escape(name, shown, sizeof(shown));
	return pwb_error_set(err, PWB_EINVAL,
			     "group name '%s' is in group-provisioning-deny-names and is never "
			     "provisioned",
			     shown);
}

bool pwb_policy_passwd_byte_ok(unsigned char c)
{
	return c != ':' && c >= 0x20 && c != 0x7f;
}

int pwb_policy_passwd_field(const char *field, const char *value, struct pwb_error *err)
{
	for (const char *c = value; c && *c; c++)
		if (!pwb_policy_passwd_byte_ok((unsigned char)*c))
			return pwb_error_set(err, PWB_EINVAL,
					     "%s may not contain ':' or control characters", field);
	return 0;
}

void pwb_policy_passwd_field_clean(char *value)
{
	for (char *c = value; c && *c; c++)
		if (!pwb_policy_passwd_byte_ok((unsigned char)*c))
			*c = ' ';
}

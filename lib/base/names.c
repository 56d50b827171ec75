/* Name rules: what may become a Linux user or group name. Everything from
 * outside passes pwb_names_to_linux() before it reaches the store, a path
 * or a log, so this is the one place that decides. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "names.h"

static bool is_first_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_first_char(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool pwb_names_is_valid(const char *name)
{
	size_t i, len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > PWB_NAME_MAX || !is_first_char(name[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_name_char(name[i]))
			return false;
	/* "." and ".." cannot pass the first-character rule; say so anyway. */
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

void pwb_names_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; in && *in && o + 5 < outlen; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (in && *in && o + 3 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* True if domain (length len) is one of the comma-separated allowed ones. */
static bool domain_allowed(const char *domain, size_t len, const char *allowed)
{
	const char *p = allowed;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + n;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == len && len > 0 && strncasecmp(s, domain, len) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static bool has_domains(const char *allowed)
{
	for (; allowed && *allowed; allowed++)
		if (*allowed != ',' && *allowed != ' ' && *allowed != '\t')
			return true;
	return false;
}

int pwb_names_to_linux(const char *external, unsigned flags, const char *allowed_domains,
		       char out[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	char shown[96];
	const char *at;
	size_t len, i;

	out[0] = '\0';
	if (!external || !*external)
		return pwb_error_set(err, PWB_EINVAL, "empty name");
	pwb_names_escape(external, shown, sizeof(shown));
	len = strlen(external);
	at = strchr(external, '@');
	if (at) {
		if (!(flags & PWB_NAMES_STRIP_DOMAIN))
			return pwb_error_set(err, PWB_EINVAL, "name \"%s\" contains '@'", shown);
		if (strchr(at + 1, '@'))
			return pwb_error_set(err, PWB_EINVAL, "name \"%s\" has more than one '@'",
					     shown);
		if (at[1] == '\0')
			return pwb_error_set(err, PWB_EINVAL, "name \"%s\" has an empty domain",
					     shown);
		if (has_domains(allowed_domains) &&
		    !domain_allowed(at + 1, strlen(at + 1), allowed_domains))
			return pwb_error_set(
			    err, PWB_EINVAL,
			    "name \"%s\": domain not in auth-openid-username-domains", shown);
		len = (size_t)(at - external);
	} else if ((flags & PWB_NAMES_STRIP_DOMAIN) && !(flags & PWB_NAMES_ALLOW_BARE) &&
		   has_domains(allowed_domains)) {
		return pwb_error_set(err, PWB_EINVAL,
				     "name \"%s\" has no domain, and auth-openid-username-domains "
				     "requires one",
				     shown);
	}
	if (len == 0)
		return pwb_error_set(err, PWB_EINVAL, "name \"%s\" is empty before '@'", shown);
	if (len > PWB_NAME_MAX)
		return pwb_error_set(err, PWB_EINVAL, "name \"%s\" is longer than %d characters",
				     shown, PWB_NAME_MAX);
	for (i = 0; i < len; i++) {
		char c = external[i];

		if ((flags & PWB_NAMES_LOWERCASE) && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = c;
	}
	out[len] = '\0';
	if (!pwb_names_is_valid(out)) {
		out[0] = '\0';
		return pwb_error_set(err, PWB_EINVAL,
				     "name \"%s\" is not a valid Linux name "
				     "([a-z_][a-z0-9_.-]*, at most %d characters)",
				     shown, PWB_NAME_MAX);
	}
	return 0;
}

int pwb_names_group_from_display(const char *display, char space, char out[PWB_NAME_MAX + 1],
				 struct pwb_error *err)
{
	char derived[PWB_GROUP_DISPLAY_MAX + 1], shown[PWB_GROUP_DISPLAY_MAX + 8];
	size_t i, len;

	out[0] = '\0';
	if (!display || !*display)
		return pwb_error_set(err, PWB_EINVAL, "empty group name");
	len = strlen(display);
	pwb_names_escape(display, shown, sizeof(shown));
	if (len > PWB_GROUP_DISPLAY_MAX)
		return pwb_error_set(err, PWB_EINVAL, "group name \"%s\" is longer than %d bytes",
				     shown, PWB_GROUP_DISPLAY_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)display[i];

		if (c < 0x20 || c == 0x7f)
			return pwb_error_set(err, PWB_EINVAL,
					     "group name \"%s\" contains a control character",
					     shown);
		if (c >= 0x80)
			return pwb_error_set(err, PWB_EINVAL,
					     "group name \"%s\" is not ASCII, so no Linux name is "
					     "derived from it (map it with pwbadm map-group)",
					     shown);
		derived[i] = c == ' '		      ? space
			     : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a')
						      : (char)c;
	}
	derived[len] = '\0';
	pwb_names_escape(derived, shown, sizeof(shown));
	if (derived[0] >= '0' && derived[0] <= '9')
		return pwb_error_set(err, PWB_EINVAL,
				     "derived group name \"%s\" starts with a digit (an object id, "
				     "not a name? map it with pwbadm map-group)",
				     shown);
	if (len > PWB_NAME_MAX)
		return pwb_error_set(err, PWB_EINVAL,
				     "derived group name \"%s\" has %zu characters, more than %d "
				     "(never truncated: map it with pwbadm map-group)",
				     shown, len, PWB_NAME_MAX);
	if (!is_first_char(derived[0]))
		return pwb_error_set(err, PWB_EINVAL,
				     "derived group name \"%s\" starts with '%c', which a Linux "
				     "name cannot",
				     shown, derived[0]);
	for (i = 1; i < len; i++)
		if (!is_name_char(derived[i]))
			return pwb_error_set(err, PWB_EINVAL,
					     "derived group name \"%s\" contains '%c', which a "
					     "Linux name cannot hold ([a-z_][a-z0-9_.-]*)",
					     shown, derived[i]);
	memcpy(out, derived, len + 1);
	return 0;
}

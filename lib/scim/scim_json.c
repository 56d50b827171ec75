/* Case-insensitive attribute access on Jansson objects for SCIM resources,
 * and the loose scalar forms IdPs send (Entra ID's "True"/"False"). */
#include <errno.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "scim_json.h"

json_t *pwb_scim_json_get(json_t *obj, const char *name, const char **key_out)
{
	const char *key;
	json_t *value;

	if (key_out)
		*key_out = NULL;
	if (!json_is_object(obj) || !name)
		return NULL;
	value = json_object_get(obj, name);
	if (value) {
		if (key_out)
			*key_out = name;
		return value;
	}
	json_object_foreach(obj, key, value)
	{
		if (strcasecmp(key, name) == 0) {
			if (key_out)
				*key_out = key;
			return value;
		}
	}
	return NULL;
}

bool pwb_scim_json_deeper_than(json_t *v, unsigned max)
{
	const char *key;
	json_t *member;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return false;
	if (max == 0)
		return true;
	if (json_is_array(v)) {
		json_array_foreach(v, i, member)
		{
			if (pwb_scim_json_deeper_than(member, max - 1))
				return true;
		}
		return false;
	}
	json_object_foreach(v, key, member)
	{
		if (pwb_scim_json_deeper_than(member, max - 1))
			return true;
	}
	return false;
}

const char *pwb_scim_json_too_deep_member(json_t *obj, unsigned max)
{
	const char *key;
	json_t *member;

	if (!json_is_object(obj) || max == 0)
		return NULL;
	json_object_foreach(obj, key, member)
	{
		if (pwb_scim_json_deeper_than(member, max - 1))
			return key;
	}
	return NULL;
}

void pwb_scim_json_del(json_t *obj, const char *name)
{
	const char *key;
	json_t *value;
	void *tmp;

	if (!json_is_object(obj))
		return;
	json_object_foreach_safe(obj, tmp, key, value)
	{
		if (strcasecmp(key, name) == 0)
			json_object_del(obj, key);
	}
}

int pwb_scim_json_set(json_t *obj, const char *name, json_t *value)
{
	if (!json_is_object(obj)) {
		json_decref(value);
		return -1;
	}
	pwb_scim_json_del(obj, name);
	return json_object_set_new(obj, name, value);
}

const char *pwb_scim_json_string(json_t *obj, const char *name)
{
	return json_string_value(pwb_scim_json_get(obj, name, NULL));
}

int pwb_scim_json_bool(json_t *value, bool *out)
{
	const char *s;

	if (json_is_boolean(value)) {
		*out = json_is_true(value);
		return 0;
	}
	s = json_string_value(value);
	if (s && strcasecmp(s, "true") == 0) {
		*out = true;
		return 0;
	}
	if (s && strcasecmp(s, "false") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static bool take_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool pwb_scim_parse_datetime(const char *s, double *out)
{
	int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	double frac = 0, scale = 0.1;
	struct tm tm;
	const char *p = s;

	if (!s || !take_digits(&p, 4, &year) || *p++ != '-' || !take_digits(&p, 2, &mon) ||
	    *p++ != '-' || !take_digits(&p, 2, &day) || (*p != 'T' && *p != 't'))
		return false;
	p++;
	if (!take_digits(&p, 2, &hour) || *p++ != ':' || !take_digits(&p, 2, &min) || *p++ != ':' ||
	    !take_digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p)) {
			frac += (*p++ - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!take_digits(&p, 2, &oh) || *p++ != ':' || !take_digits(&p, 2, &om))
			return false;
	} else {
		return false;
	}
	if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = (double)timegm(&tm) + frac - sign * (oh * 3600 + om * 60);
	return true;
}

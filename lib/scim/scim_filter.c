/* SCIM filter and PATCH path grammar (RFC 7644 §3.4.2.2, §3.5.2): a small
 * lexer and recursive-descent parser (precedence not > and > or), and an
 * evaluator over Jansson resources. */
#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cleanup.h"
#include "scim_filter.h"
#include "scim_json.h"

#define CORE_URN_PREFIX "urn:ietf:params:scim:schemas:core:2.0:"

enum tok_kind {
	T_END,
	T_WORD,
	T_STRING,
	T_LPAREN,
	T_RPAREN,
	T_LBRACKET,
	T_RBRACKET
};

struct parser {
	const char *text;
	size_t pos;
	enum tok_kind kind; /* current token */
	size_t start, len;  /* its extent in text */
	int depth;
	struct pwb_scim_error *err;
	const char *scim_type; /* invalidFilter or invalidPath */
};

static bool is_word_char(char c)
{
	return c && !isspace((unsigned char)c) && !strchr("()[]\"", c);
}

static int next_token(struct parser *p)
{
	const char *t = p->text;

	while (t[p->pos] == ' ' || t[p->pos] == '\t')
		p->pos++;
	p->start = p->pos;
	switch (t[p->pos]) {
	case '\0':
		p->kind = T_END;
		p->len = 0;
		return 0;
	case '(':
		p->kind = T_LPAREN;
		break;
	case ')':
		p->kind = T_RPAREN;
		break;
	case '[':
		p->kind = T_LBRACKET;
		break;
	case ']':
		p->kind = T_RBRACKET;
		break;
	case '"':
		p->pos++;
		while (t[p->pos] && t[p->pos] != '"') {
			if (t[p->pos] == '\\' && t[p->pos + 1])
				p->pos++;
			p->pos++;
		}
		if (t[p->pos] != '"')
			return pwb_scim_fail(p->err, 400, p->scim_type,
					     "unterminated string at position %zu", p->start + 1);
		p->pos++;
		p->kind = T_STRING;
		p->len = p->pos - p->start;
		return 0;
	default:
		if (!is_word_char(t[p->pos]))
			return pwb_scim_fail(p->err, 400, p->scim_type,
					     "unexpected character at position %zu", p->pos + 1);
		while (is_word_char(t[p->pos]))
			p->pos++;
		p->kind = T_WORD;
		p->len = p->pos - p->start;
		return 0;
	}
	p->pos++;
	p->len = 1;
	return 0;
}

static bool word_is(const struct parser *p, const char *w)
{
	return p->kind == T_WORD && p->len == strlen(w) &&
	       strncasecmp(p->text + p->start, w, p->len) == 0;
}

static bool is_attr_name(const char *s, size_t n)
{
	if (n == 4 && strncmp(s, "$ref", 4) == 0)
		return true;
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

void pwb_scim_attr_path_clear(struct pwb_scim_attr_path *p)
{
	free(p->urn);
	free(p->attr);
	free(p->sub);
	p->urn = p->attr = p->sub = NULL;
}

/* Splits text[0..n) into URN, attribute and sub-attribute. */
static int attr_path_from(const char *text, size_t n, struct pwb_scim_attr_path *out,
			  struct pwb_scim_error *err, const char *scim_type)
{
	const char *name = text, *dot;
	size_t name_len = n;

	memset(out, 0, sizeof(*out));
	if (n >= 4 && strncasecmp(text, "urn:", 4) == 0) {
		const char *colon = NULL;

		/* The attribute follows the URN's last colon; the URN itself may
		 * hold dots ("2.0"), the attribute part may not start with one. */
		for (size_t i = 0; i < n; i++)
			if (text[i] == ':')
				colon = text + i;
		name = colon + 1;
		name_len = n - (size_t)(name - text);
		out->urn = strndup(text, (size_t)(colon - text));
		if (!out->urn)
			return -ENOMEM;
	}
	dot = memchr(name, '.', name_len);
	if (dot) {
		size_t sub_len = name_len - (size_t)(dot - name) - 1;

		if (!is_attr_name(dot + 1, sub_len))
			goto bad;
		out->sub = strndup(dot + 1, sub_len);
		name_len = (size_t)(dot - name);
	}
	if (!is_attr_name(name, name_len))
		goto bad;
	out->attr = strndup(name, name_len);
	if (!out->attr || (dot && !out->sub)) {
		pwb_scim_attr_path_clear(out);
		return -ENOMEM;
	}
	return 0;
bad:
	pwb_scim_attr_path_clear(out);
	return pwb_scim_fail(err, 400, scim_type, "invalid attribute path \"%.*s\"",
			     (int)(n > 100 ? 100 : n), text);
}

int pwb_scim_attr_path_parse(const char *text, struct pwb_scim_attr_path *out,
			     struct pwb_scim_error *err)
{
	return attr_path_from(text, strlen(text), out, err, "invalidPath");
}

void pwb_scim_filter_free(struct pwb_scim_filter *f)
{
	if (!f)
		return;
	pwb_scim_attr_path_clear(&f->path);
	json_decref(f->value);
	pwb_scim_filter_free(f->left);
	pwb_scim_filter_free(f->right);
	free(f);
}

static struct pwb_scim_filter *node_new(enum pwb_scim_filter_op op)
{
	struct pwb_scim_filter *f = calloc(1, sizeof(*f));

	if (f)
		f->op = op;
	return f;
}

static int parse_or(struct parser *p, struct pwb_scim_filter **out);

static const struct {
	const char *word;
	enum pwb_scim_filter_op op;
} compare_ops[] = {
    {"eq", PWB_SCIM_EQ}, {"ne", PWB_SCIM_NE}, {"co", PWB_SCIM_CO}, {"sw", PWB_SCIM_SW},
    {"ew", PWB_SCIM_EW}, {"gt", PWB_SCIM_GT}, {"ge", PWB_SCIM_GE}, {"lt", PWB_SCIM_LT},
    {"le", PWB_SCIM_LE}, {"pr", PWB_SCIM_PR},
};

static int parse_value(struct parser *p, json_t **out)
{
	_cleanup_free_ char *text = strndup(p->text + p->start, p->len);
	json_t *v;

	if (!text)
		return -ENOMEM;
	if (p->kind != T_STRING && p->kind != T_WORD)
		return pwb_scim_fail(p->err, 400, p->scim_type, "expected a value at position %zu",
				     p->start + 1);
	if (p->kind == T_WORD) {
		/* JSON literals are lower case; SCIM keywords are not. */
		for (char *c = text; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!v || json_is_object(v) || json_is_array(v)) {
		json_decref(v);
		return pwb_scim_fail(p->err, 400, p->scim_type, "invalid value at position %zu",
				     p->start + 1);
	}
	*out = v;
	return 0;
}

/* attrPath op value | attrPath pr | attrPath "[" filter "]" */
static int parse_attr_expression(struct parser *p, struct pwb_scim_filter **out)
{
	struct pwb_scim_filter *f = NULL;
	int r;

	if (p->kind != T_WORD)
		return pwb_scim_fail(p->err, 400, p->scim_type,
				     "expected an attribute at position %zu", p->start + 1);
	f = node_new(PWB_SCIM_EQ);
	if (!f)
		return -ENOMEM;
	r = attr_path_from(p->text + p->start, p->len, &f->path, p->err, p->scim_type);
	if (r < 0)
		goto fail;
	if ((r = next_token(p)) < 0)
		goto fail;
	if (p->kind == T_LBRACKET) {
		f->op = PWB_SCIM_VALUE_PATH;
		if ((r = next_token(p)) < 0 || (r = parse_or(p, &f->left)) < 0)
			goto fail;
		if (p->kind != T_RBRACKET) {
			r = pwb_scim_fail(p->err, 400, p->scim_type, "expected ']' at position %zu",
					  p->start + 1);
			goto fail;
		}
		if ((r = next_token(p)) < 0)
			goto fail;
		*out = f;
		return 0;
	}
	for (size_t i = 0; i < PWB_ARRAY_SIZE(compare_ops); i++) {
		if (!word_is(p, compare_ops[i].word))
			continue;
		f->op = compare_ops[i].op;
		if ((r = next_token(p)) < 0)
			goto fail;
		if (f->op != PWB_SCIM_PR) {
			if ((r = parse_value(p, &f->value)) < 0 || (r = next_token(p)) < 0)
				goto fail;
		}
		*out = f;
		return 0;
	}
	r = pwb_scim_fail(p->err, 400, p->scim_type, "expected an operator at position %zu",
			  p->start + 1);
fail:
	pwb_scim_filter_free(f);
	return r;
}

static int parse_primary(struct parser *p, struct pwb_scim_filter **out)
{
	int r;

	if (++p->depth > PWB_SCIM_FILTER_MAX_DEPTH)
		return pwb_scim_fail(p->err, 400, p->scim_type, "filter nested too deeply");
	if (word_is(p, "not")) {
		struct pwb_scim_filter *f = node_new(PWB_SCIM_NOT);

		if (!f)
			return -ENOMEM;
		if ((r = next_token(p)) < 0 || (r = parse_primary(p, &f->left)) < 0) {
			pwb_scim_filter_free(f);
			return r;
		}
		*out = f;
	} else if (p->kind == T_LPAREN) {
		if ((r = next_token(p)) < 0 || (r = parse_or(p, out)) < 0)
			return r;
		if (p->kind != T_RPAREN) {
			pwb_scim_filter_free(*out);
			*out = NULL;
			return pwb_scim_fail(p->err, 400, p->scim_type,
					     "expected ')' at position %zu", p->start + 1);
		}
		if ((r = next_token(p)) < 0) {
			pwb_scim_filter_free(*out);
			*out = NULL;
			return r;
		}
	} else {
		r = parse_attr_expression(p, out);
		if (r < 0)
			return r;
	}
	p->depth--;
	return 0;
}

static int parse_binary(struct parser *p, struct pwb_scim_filter **out, const char *word,
			enum pwb_scim_filter_op op,
			int (*operand)(struct parser *, struct pwb_scim_filter **))
{
	struct pwb_scim_filter *left = NULL, *node;
	int r;

	if ((r = operand(p, &left)) < 0)
		return r;
	while (word_is(p, word)) {
		node = node_new(op);
		if (!node) {
			pwb_scim_filter_free(left);
			return -ENOMEM;
		}
		node->left = left;
		left = node;
		if ((r = next_token(p)) < 0 || (r = operand(p, &node->right)) < 0) {
			pwb_scim_filter_free(left);
			return r;
		}
	}
	*out = left;
	return 0;
}

static int parse_and(struct parser *p, struct pwb_scim_filter **out)
{
	return parse_binary(p, out, "and", PWB_SCIM_AND, parse_primary);
}

static int parse_or(struct parser *p, struct pwb_scim_filter **out)
{
	return parse_binary(p, out, "or", PWB_SCIM_OR, parse_and);
}

int pwb_scim_filter_parse(const char *text, struct pwb_scim_filter **out,
			  struct pwb_scim_error *err)
{
	struct parser p = {.text = text, .err = err, .scim_type = "invalidFilter"};
	struct pwb_scim_filter *f = NULL;
	int r;

	*out = NULL;
	if (!text || !*text)
		return pwb_scim_fail(err, 400, "invalidFilter", "empty filter");
	if (strlen(text) > PWB_SCIM_FILTER_MAX_LEN)
		return pwb_scim_fail(err, 400, "invalidFilter", "filter longer than %d bytes",
				     PWB_SCIM_FILTER_MAX_LEN);
	if ((r = next_token(&p)) < 0 || (r = parse_or(&p, &f)) < 0)
		return r;
	if (p.kind != T_END) {
		pwb_scim_filter_free(f);
		return pwb_scim_fail(err, 400, "invalidFilter", "unexpected text at position %zu",
				     p.start + 1);
	}
	*out = f;
	return 0;
}

void pwb_scim_patch_path_clear(struct pwb_scim_patch_path *pp)
{
	pwb_scim_attr_path_clear(&pp->path);
	pwb_scim_filter_free(pp->filter);
	free(pp->value_sub);
	memset(pp, 0, sizeof(*pp));
}

int pwb_scim_patch_path_parse(const char *text, struct pwb_scim_patch_path *out,
			      struct pwb_scim_error *err)
{
	struct parser p = {.text = text, .err = err, .scim_type = "invalidPath"};
	const char *bracket;
	int r;

	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return pwb_scim_fail(err, 400, "invalidPath", "empty path");
	if (strlen(text) > PWB_SCIM_FILTER_MAX_LEN)
		return pwb_scim_fail(err, 400, "invalidPath", "path longer than %d bytes",
				     PWB_SCIM_FILTER_MAX_LEN);
	bracket = strchr(text, '[');
	if (!bracket)
		return attr_path_from(text, strlen(text), &out->path, err, "invalidPath");
	r = attr_path_from(text, (size_t)(bracket - text), &out->path, err, "invalidPath");
	if (r < 0)
		return r;
	p.pos = (size_t)(bracket - text) + 1;
	if ((r = next_token(&p)) < 0 || (r = parse_or(&p, &out->filter)) < 0)
		goto fail;
	if (p.kind != T_RBRACKET) {
		r = pwb_scim_fail(err, 400, "invalidPath", "expected ']' at position %zu",
				  p.start + 1);
		goto fail;
	}
	if (text[p.pos] == '.') {
		const char *sub = text + p.pos + 1;

		if (!is_attr_name(sub, strlen(sub))) {
			r = pwb_scim_fail(err, 400, "invalidPath",
					  "invalid sub-attribute after ']'");
			goto fail;
		}
		out->value_sub = strdup(sub);
		if (!out->value_sub) {
			r = -ENOMEM;
			goto fail;
		}
	} else if (text[p.pos]) {
		r = pwb_scim_fail(err, 400, "invalidPath", "unexpected text at position %zu",
				  p.pos + 1);
		goto fail;
	}
	if (out->path.sub) {
		r = pwb_scim_fail(err, 400, "invalidPath",
				  "a value filter applies to an attribute, not a sub-attribute");
		goto fail;
	}
	return 0;
fail:
	pwb_scim_patch_path_clear(out);
	return r;
}

/* ---- evaluation ---- */

json_t *pwb_scim_path_container(json_t *resource, const struct pwb_scim_attr_path *p, bool create)
{
	json_t *ext;

	if (!p->urn || strncasecmp(p->urn, CORE_URN_PREFIX, strlen(CORE_URN_PREFIX)) == 0)
		return resource;
	ext = pwb_scim_json_get(resource, p->urn, NULL);
	if (json_is_object(ext))
		return ext;
	if (!create)
		return NULL;
	ext = json_object();
	if (pwb_scim_json_set(resource, p->urn, ext) < 0)
		return NULL;
	return ext;
}

static bool case_exact(const struct pwb_scim_attr_path *p)
{
	const char *name = p->sub ? p->sub : p->attr;

	return strcasecmp(name, "id") == 0 || strcasecmp(name, "externalId") == 0 ||
	       strcmp(name, "$ref") == 0;
}

/* Finds attr at the top level, or, without a URN, in an extension object
 * (clients often write "uidNumber" for the posix extension's). */
static json_t *lookup_attr(json_t *resource, const struct pwb_scim_attr_path *p)
{
	json_t *container = pwb_scim_path_container(resource, p, false);
	json_t *v, *ext;
	const char *key;

	v = pwb_scim_json_get(container, p->attr, NULL);
	if (v || p->urn)
		return v;
	json_object_foreach(resource, key, ext)
	{
		if (strncasecmp(key, "urn:", 4) == 0 && json_is_object(ext)) {
			v = pwb_scim_json_get(ext, p->attr, NULL);
			if (v)
				return v;
		}
	}
	return NULL;
}

static int compare_strings(const char *a, const char *b, bool exact)
{
	double ta, tb;

	if (pwb_scim_parse_datetime(a, &ta) && pwb_scim_parse_datetime(b, &tb))
		return ta < tb ? -1 : ta > tb;
	return exact ? strcmp(a, b) : strcasecmp(a, b);
}

static bool contains(const char *hay, const char *needle, bool exact)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if ((exact ? strncmp(hay, needle, n) : strncasecmp(hay, needle, n)) == 0)
			return true;
	return n == 0;
}

static bool compare_one(json_t *have, enum pwb_scim_filter_op op, json_t *want, bool exact)
{
	if (json_is_object(have)) /* a complex value compares by its "value" */
		have = pwb_scim_json_get(have, "value", NULL);
	if (!have || json_is_null(have))
		return false;
	if (json_is_string(have) && json_is_string(want)) {
		const char *a = json_string_value(have), *b = json_string_value(want);
		size_t la = strlen(a), lb = strlen(b);
		int c;

		switch (op) {
		case PWB_SCIM_CO:
			return contains(a, b, exact);
		case PWB_SCIM_SW:
			return (exact ? strncmp(a, b, lb) : strncasecmp(a, b, lb)) == 0;
		case PWB_SCIM_EW:
			return la >= lb &&
			       (exact ? strcmp(a + la - lb, b) : strcasecmp(a + la - lb, b)) == 0;
		default:
			break;
		}
		c = compare_strings(a, b, exact);
		switch (op) {
		case PWB_SCIM_EQ:
			return c == 0;
		case PWB_SCIM_GT:
			return c > 0;
		case PWB_SCIM_GE:
			return c >= 0;
		case PWB_SCIM_LT:
			return c < 0;
		case PWB_SCIM_LE:
			return c <= 0;
		default:
			return false;
		}
	}
	if (json_is_number(have) && json_is_number(want)) {
		double a = json_number_value(have), b = json_number_value(want);

		switch (op) {
		case PWB_SCIM_EQ:
			return a == b;
		case PWB_SCIM_GT:
			return a > b;
		case PWB_SCIM_GE:
			return a >= b;
		case PWB_SCIM_LT:
			return a < b;
		case PWB_SCIM_LE:
			return a <= b;
		default:
			return false;
		}
	}
	if (json_is_boolean(have) || json_is_boolean(want)) {
		bool a, b;

		/* Entra ID may have stored "True"; compare what it means. */
		if (op != PWB_SCIM_EQ || pwb_scim_json_bool(have, &a) < 0 ||
		    pwb_scim_json_bool(want, &b) < 0)
			return false;
		return a == b;
	}
	return false;
}

/* Applies fn to each value at path (flattening multi-valued attributes)
 * until it returns true. */
static bool any_value(json_t *resource, const struct pwb_scim_attr_path *p,
		      bool (*fn)(json_t *v, const void *ctx), const void *ctx)
{
	json_t *v = lookup_attr(resource, p), *el;
	size_t i;

	if (!v)
		return false;
	if (!json_is_array(v)) {
		if (p->sub)
			v = pwb_scim_json_get(v, p->sub, NULL);
		return v && fn(v, ctx);
	}
	json_array_foreach(v, i, el)
	{
		json_t *x = p->sub ? pwb_scim_json_get(el, p->sub, NULL) : el;

		if (x && fn(x, ctx))
			return true;
	}
	return false;
}

static bool value_present(json_t *v, const void *ctx)
{
	(void)ctx;
	if (json_is_null(v))
		return false;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return true;
}

static bool value_compares(json_t *v, const void *ctx)
{
	const struct pwb_scim_filter *f = ctx;

	return compare_one(v, f->op == PWB_SCIM_NE ? PWB_SCIM_EQ : f->op, f->value,
			   case_exact(&f->path));
}

static bool element_matches(json_t *v, const void *ctx)
{
	return pwb_scim_filter_match(ctx, v);
}

bool pwb_scim_filter_match(const struct pwb_scim_filter *f, json_t *resource)
{
	switch (f->op) {
	case PWB_SCIM_AND:
		return pwb_scim_filter_match(f->left, resource) &&
		       pwb_scim_filter_match(f->right, resource);
	case PWB_SCIM_OR:
		return pwb_scim_filter_match(f->left, resource) ||
		       pwb_scim_filter_match(f->right, resource);
	case PWB_SCIM_NOT:
		return !pwb_scim_filter_match(f->left, resource);
	case PWB_SCIM_PR:
		return any_value(resource, &f->path, value_present, NULL);
	case PWB_SCIM_VALUE_PATH: {
		struct pwb_scim_attr_path whole = f->path;

		whole.sub = NULL;
		return any_value(resource, &whole, element_matches, f->left);
	}
	case PWB_SCIM_NE:
		/* "ne null" is "present"; otherwise no value may equal. */
		if (json_is_null(f->value))
			return any_value(resource, &f->path, value_present, NULL);
		return !any_value(resource, &f->path, value_compares, f);
	case PWB_SCIM_EQ:
		if (json_is_null(f->value))
			return !any_value(resource, &f->path, value_present, NULL);
		return any_value(resource, &f->path, value_compares, f);
	default:
		return any_value(resource, &f->path, value_compares, f);
	}
}

bool pwb_scim_filter_mentions(const struct pwb_scim_filter *f, const char *attr)
{
	if (!f)
		return false;
	if (f->path.attr && strcasecmp(f->path.attr, attr) == 0)
		return true;
	return pwb_scim_filter_mentions(f->left, attr) || pwb_scim_filter_mentions(f->right, attr);
}

const char *pwb_scim_filter_indexed_eq(const struct pwb_scim_filter *f, const char *attr)
{
	const char *s;

	if (!f)
		return NULL;
	if (f->op == PWB_SCIM_AND) {
		s = pwb_scim_filter_indexed_eq(f->left, attr);
		return s ? s : pwb_scim_filter_indexed_eq(f->right, attr);
	}
	if (f->op == PWB_SCIM_EQ && !f->path.sub && json_is_string(f->value) &&
	    strcasecmp(f->path.attr, attr) == 0 &&
	    (!f->path.urn ||
	     strncasecmp(f->path.urn, CORE_URN_PREFIX, strlen(CORE_URN_PREFIX)) == 0))
		return json_string_value(f->value);
	return NULL;
}

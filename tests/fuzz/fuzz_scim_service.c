/* libFuzzer target: a whole SCIM request through pwb_scim_service_handle
 * (routing, authentication, Users/Groups/discovery handlers, PATCH, list
 * and filter) against a real store in a temp dir, kept across inputs so
 * that created users and groups are there for later requests.
 * Input: "METHOD\nURI\nIF-MATCH\nbody" (an empty IF-MATCH line: none); the
 * bearer token is the valid one unless the method line starts with '!'.
 * "{id}" in the URI stands for the id of the last resource a request
 * returned, so that inputs can reach an existing user or group (the
 * store's UUIDs cannot be guessed). */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "scim_service.h"
#include "store.h"
#include "token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static struct pwb_config cfg;
static struct pwb_store *st;
static struct pwb_scim_service *svc;
static char authorization[16 + PWB_TOKEN_TEXT_MAX];
static char last_id[64];

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz_scim_service: %s: %s\n", what, msg);
	abort();
}

static int put_token(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_token_put(txn, ctx, err);
}

static void remove_dir(void)
{
	char cmd[64];

	pwb_scim_service_free(svc);
	pwb_store_close(st);
	pwb_config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_scim_service: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct passwd *pw = getpwuid(geteuid());
	struct pwb_error err = {0};
	struct pwb_token t = {0};
	char text[PWB_TOKEN_TEXT_MAX], *conf = NULL;

	(void)argc;
	(void)argv;
	/* under $TMPDIR: scripts/fuzz removes it, as libFuzzer may end the
	 * process without running atexit handlers */
	snprintf(dir, sizeof(dir), "%s/pwb-fuzz-scim-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!pw || !mkdtemp(dir))
		die("setup", "no user or temp dir");
	if (asprintf(&conf,
		     "db-dir=%s/db\nstore-user=%s\nuser-homedir-path=%s/home\n"
		     "user-provisioning-start-uid=20000\nuser-provisioning-end-uid=59999\n"
		     "group-provisioning-start-gid=20000\ngroup-provisioning-end-gid=59999\n",
		     dir, pw->pw_name, dir) < 0)
		die("setup", "out of memory");
	if (pwb_config_defaults(&cfg) < 0)
		die("config", "no defaults");
	if (pwb_config_parse(conf, "fuzz", &cfg, &err) < 0)
		die("config", err.msg);
	free(conf);
	if (pwb_store_open(&cfg, &st, &err) < 0)
		die("store", err.msg);
	atexit(remove_dir);
	if (pwb_token_generate(text) < 0 || pwb_token_hash(text, strlen(text), t.hash) < 0)
		die("token", "cannot generate");
	snprintf(t.name, sizeof(t.name), "fuzz");
	pwb_token_mask(text, t.masked);
	t.created = 1;
	if (pwb_store_write(st, put_token, &t, &err) < 0)
		die("token", err.msg);
	snprintf(authorization, sizeof(authorization), "Bearer %s", text);
	if (pwb_scim_service_new(st, &cfg, &svc) < 0)
		die("service", "cannot start");
	return 0;
}

/* The next line of the input (NUL-terminated copy, malloc'd) or NULL. */
static char *next_line(const uint8_t **p, size_t *left)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n = nl ? (size_t)(nl - *p) : *left;
	char *line = strndup((const char *)*p, n);

	*p += nl ? n + 1 : n;
	*left -= nl ? n + 1 : n;
	return line;
}

/* uri with every "{id}" replaced by last_id (malloc'd). */
static char *expand_uri(const char *uri)
{
	size_t n = strlen(uri) + 1, k = strlen(last_id);
	const char *p;
	char *out, *o;

	for (p = uri; (p = strstr(p, "{id}")); p += 4)
		n += k;
	out = o = malloc(n);
	if (!out)
		abort();
	while ((p = strstr(uri, "{id}"))) {
		memcpy(o, uri, (size_t)(p - uri));
		o += p - uri;
		memcpy(o, last_id, k);
		o += k;
		uri = p + 4;
	}
	strcpy(o, uri);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_scim_request req = {0};
	struct pwb_scim_response resp;
	char *method = next_line(&data, &size), *line = next_line(&data, &size);
	char *if_match = next_line(&data, &size), *uri;
	const char *id;

	if (!method || !line || !if_match)
		abort();
	uri = expand_uri(line);
	req.method = method[0] == '!' ? method + 1 : method;
	req.authorization = method[0] == '!' ? "Bearer wrong" : authorization;
	req.uri = uri;
	req.if_match = if_match[0] ? if_match : NULL;
	req.scheme = "https";
	req.host = "scim.example.com";
	req.body = (const char *)data;
	req.body_len = size;
	req.body_too_large = size > cfg.scim_max_request_bytes;
	pwb_scim_service_handle(svc, &req, &resp);
	id = json_string_value(json_object_get(resp.body, "id"));
	if (id && strlen(id) < sizeof(last_id))
		strcpy(last_id, id);
	pwb_scim_response_clear(&resp);
	free(method);
	free(line);
	free(uri);
	free(if_match);
	return 0;
}

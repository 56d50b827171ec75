/* libFuzzer target: pwbd's strict request parser (lib/rpc/protocol.c).
 * Whatever it accepts must obey rpc.h: an op and id from their charsets,
 * args an object, actor strings without control characters; a refusal
 * must come with PWB_EINVAL and a message. The same bytes go to the
 * client's progress frame parser: a frame it accepts has words from their
 * charset and done <= total, and encodes back to a frame that parses the
 * same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_charset(const char *s, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || strspn(s, allowed) != n)
		abort();
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void check_progress(const uint8_t *data, size_t size)
{
	struct pwb_rpc_progress p, again;
	struct pwb_error err = {0};
	int r = pwb_rpc_progress_parse((const char *)data, size, "f", &p, &err);
	char *text;

	if (r < 0) {
		if (r != PWB_EINVAL || !err.msg[0])
			abort();
		return;
	}
	if (r == 0)
		return;
	if (r != 1 || !pwb_progress_word_ok(p.stage) || !pwb_progress_word_ok(p.unit) ||
	    p.total < -1 || (p.total >= 0 && p.done > (uint64_t)p.total))
		abort();
	text = pwb_rpc_progress_encode("f", p.stage, p.done, p.total, p.unit);
	if (!text || pwb_rpc_progress_parse(text, strlen(text), "f", &again, &err) != 1 ||
	    memcmp(&p, &again, sizeof(p)) != 0)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	int r;

	check_progress(data, size);
	r = pwb_rpc_request_parse(data, size, &req, &err);

	if (r < 0) {
		if (r != PWB_EINVAL && r != -12 /* ENOMEM */)
			abort();
		if (!err.msg[0] || req.args)
			abort();
		return 0;
	}
	check_charset(req.op, PWB_RPC_OP_MAX, "abcdefghijklmnopqrstuvwxyz0123456789_.");
	if (!strchr("abcdefghijklmnopqrstuvwxyz", req.op[0]))
		abort();
	check_charset(req.id, PWB_RPC_ID_MAX,
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");
	if (req.actor.kind[0])
		check_charset(req.actor.kind, sizeof(req.actor.kind) - 1,
			      "abcdefghijklmnopqrstuvwxyz0123456789-");
	check_printable(req.actor.name);
	check_printable(req.actor.service);
	check_printable(req.actor.rhost);
	if (!json_is_object(req.args))
		abort();
	pwb_rpc_request_clear(&req);
	return 0;
}

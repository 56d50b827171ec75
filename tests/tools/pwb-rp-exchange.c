/* pwb-rp-exchange: one code exchange through lib/oidc/rp.c against a real
 * HTTPS server, for tests/integration/rp_exchange.sh:
 *   pwb-rp-exchange ENDPOINT CA-FILE basic|post CLIENT-ID SECRET CODE VERIFIER REDIRECT-URI
 * CA-FILE "-": the system CAs. Prints "id_token=... access_token=...
 * expires_in=N" and exits 0, or prints "error CODE: MESSAGE" and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "rp.h"

int main(int argc, char **argv)
{
	struct pwb_config cfg;
	struct pwb_rp_provider p = {0};
	struct pwb_rp_tokens t;
	struct pwb_error err = {0};
	struct pwb_rp_exchange x;
	int r;

	if (argc != 9) {
		fprintf(stderr,
			"usage: pwb-rp-exchange ENDPOINT CA-FILE basic|post CLIENT-ID SECRET "
			"CODE VERIFIER REDIRECT-URI\n");
		return 2;
	}
	if (pwb_config_defaults(&cfg) < 0)
		return 2;
	cfg.openid_ca_file = strcmp(argv[2], "-") == 0 ? NULL : strdup(argv[2]);
	cfg.openid_http_timeout = 5;
	p.token_endpoint = argv[1];
	x = (struct pwb_rp_exchange){.client_id = argv[4],
				     .client_secret = argv[5],
				     .method = strcmp(argv[3], "post") == 0
						   ? PWB_RP_CLIENT_SECRET_POST
						   : PWB_RP_CLIENT_SECRET_BASIC,
				     .code = argv[6],
				     .code_verifier = argv[7],
				     .redirect_uri = argv[8]};
	r = pwb_rp_exchange_code(&cfg, &p, &x, &t, &err);
	if (r < 0) {
		printf("error %d: %s\n", r, pwb_error_text(&err, r));
		pwb_config_free(&cfg);
		return 1;
	}
	printf("id_token=%s access_token=%s expires_in=%lld\n", t.id_token, t.access_token,
	       (long long)t.expires_in);
	pwb_rp_tokens_clear(&t);
	pwb_config_free(&cfg);
	return 0;
}

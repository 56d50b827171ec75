/* The shared half of the PAM modules' return-value tests (pam_retval.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pam_retval.h"

/* The conversation: answers every prompt with the token (appdata). */
static int answer_token(int n, const struct pam_message **msg, struct pam_response **resp,
			void *token)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	(void)msg;
	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		r[i].resp = strdup(token);
	*resp = r;
	return PAM_SUCCESS;
}

/* fn's result on a fresh handle (below -100: pam_start_confdir failed). */
static int run(const char *service, const struct pam_retval_case *c)
{
	struct pam_conv conv = {c->token ? answer_token : NULL, (void *)c->token};
	pam_handle_t *pamh = NULL;
	FILE *f = fopen(service, "w");
	int r;

	if (!f)
		return -1;
	fprintf(f, "#%%PAM-1.0\n%s", c->lines);
	if (fclose(f) != 0)
		return -1;
	r = pam_start_confdir(service, c->user, &conv, ".", &pamh);
	if (r != PAM_SUCCESS)
		return -100 - r;
	r = c->fn(pamh, 0);
	pam_end(pamh, r);
	return r;
}

int pam_retval_main(const char *service, const struct pam_retval_case *cases, size_t n)
{
	int failed = 0;
	size_t i;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		int got = run(service, &cases[i]);

		if (got != cases[i].want)
			failed = 1;
		printf("%sok %zu - %s: %d (want %d)\n", got == cases[i].want ? "" : "not ", i + 1,
		       cases[i].what, got, cases[i].want);
	}
	unlink(service);
	return failed;
}

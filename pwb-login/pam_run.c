/* PAM for a browser sign-in (see pam_run.h): the conversation answers the
 * one hidden prompt with the ID token (applications cannot set
 * PAM_AUTHTOK themselves) and keeps the modules' error messages for the
 * error page; every other prompt is refused. */
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pam_run.h"

struct conv_data {
	const char *token;
	bool token_given;
	struct pam_run_result *out;
};

static void keep_message(struct pam_run_result *out, const char *msg)
{
	size_t used = strlen(out->message);

	if (!msg || !*msg || used + 3 >= sizeof(out->message))
		return;
	snprintf(out->message + used, sizeof(out->message) - used, "%s%s", used ? "; " : "", msg);
}

static void free_replies(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct conv_data *cd = data;
	struct pam_response *r;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			/* the password prompt, once: the token is the password */
			if (cd->token_given || !(r[i].resp = strdup(cd->token))) {
				free_replies(r, n);
				return PAM_CONV_ERR;
			}
			cd->token_given = true;
			break;
		case PAM_ERROR_MSG:
			keep_message(cd->out, msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			break;
		default:
			free_replies(r, n);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int pam_run_signin(const char *service, const char *user, const char *nonce, const char *rhost,
		   const char *id_token, struct pam_run_result *out)
{
	struct conv_data cd = {.token = id_token, .out = out};
	struct pam_conv conv = {converse, &cd};
	pam_handle_t *pamh = NULL;
	char env[128];
	int rc, closed;

	memset(out, 0, sizeof(*out));
	out->step = "start";
	rc = pam_start(service, user, &conv, &pamh);
	if (rc == PAM_SUCCESS && rhost)
		rc = pam_set_item(pamh, PAM_RHOST, rhost);
	if (rc == PAM_SUCCESS && snprintf(env, sizeof(env), "PWB_OIDC_NONCE=%s", nonce) > 0)
		rc = pam_putenv(pamh, env);
	explicit_bzero(env, sizeof(env));
	if (rc == PAM_SUCCESS) {
		out->step = "authenticate";
		rc = pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
	}
	if (rc == PAM_SUCCESS) {
		out->step = "account";
		rc = pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
	}
	if (rc == PAM_SUCCESS) {
		out->step = "session";
		rc = pam_open_session(pamh, 0);
		/* the session is the home and the account, made; nothing of it
		 * lives in this process, so it closes at once */
		if (rc == PAM_SUCCESS) {
			closed = pam_close_session(pamh, 0);
			if (closed != PAM_SUCCESS)
				rc = closed;
		}
	}
	out->rc = rc;
	if (pamh)
		pam_end(pamh, rc);
	return rc == PAM_SUCCESS ? 0 : -1;
}

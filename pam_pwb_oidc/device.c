/* The device flow of pam_pwb_oidc (RFC 8628; see device.h): a slot under
 * the caps, the device client, a device code, one prompt naming the host
 * and the account, then polls of the token endpoint each time the person
 * presses Enter, at the server's pace. A failed conversation (the client
 * went away) ends the flow. Never logged: the device code, the user code,
 * tokens, the client secret. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include "cleanup.h"
#include "device.h"
#include "names.h"
#include "rp.h"
#include "secret.h"

#define SLOTS_DIR "device-flows" /* under db-dir */

/* What one flow holds; everything freed and wiped by flow_clear. */
struct flow {
	pam_handle_t *pamh;
	int flags;
	const struct pwb_config *cfg;
	char shown[96]; /* the user, escaped for logs */
	char *client_id, *client_secret;
	struct pwb_rp_client client;
	struct pwb_rp_provider provider;
	struct pwb_rp_device device;
	int slot;
};

static void flow_clear(struct flow *f)
{
	free(f->client_id);
	pwb_free_secret(f->client_secret);
	pwb_rp_provider_clear(&f->provider);
	pwb_rp_device_clear(&f->device);
	pwb_device_slot_release(f->slot);
	f->client_id = f->client_secret = NULL;
	f->slot = -1;
}

static int64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void sleep_until(int64_t when)
{
	struct timespec ts = {.tv_sec = (time_t)when};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* One line to syslog and, unless PAM_SILENT, one to the person. */
static int refuse(struct flow *f, int priority, int pam_code, const char *to_user,
		  const char *detail)
{
	pam_syslog(f->pamh, priority, "user %s: device sign-in refused: %s", f->shown, detail);
	if (!(f->flags & PAM_SILENT))
		pam_error(f->pamh, "%s", to_user);
	return pam_code;
}

static int map_code(int r)
{
	if (r == -ENOMEM)
		return PAM_BUF_ERR;
	if (r == PWB_EUNAVAIL || r == PWB_ECONFIG || r == PWB_ENOTFOUND)
		return PAM_AUTHINFO_UNAVAIL;
	return PAM_AUTH_ERR;
}

/* The device client, the caps, the provider: everything before the code. */
static int prepare(struct flow *f)
{
	const struct pwb_config *cfg = f->cfg;
	struct pwb_error err = {0};
	const void *rhost = NULL;
	char dir[PATH_MAX];
	int r;

	if (!cfg->openid_device_client_file)
		return refuse(f, LOG_ERR, PAM_AUTHINFO_UNAVAIL, "device sign-in is not configured",
			      "auth-openid-device-client-file is not set");
	r = pwb_secret_read_client_file(cfg->openid_device_client_file, cfg->secure_key_file,
					&f->client_id, &f->client_secret, &err);
	if (r == 0)
		r = pwb_rp_device_auth_method_parse(cfg->openid_device_token_method,
						    f->client_secret != NULL, &f->client.method,
						    &err);
	if (r < 0)
		return refuse(f, LOG_ERR, r == -ENOMEM ? PAM_BUF_ERR : PAM_AUTHINFO_UNAVAIL,
			      "sign-in refused (unavailable)", pwb_error_text(&err, r));
	f->client.client_id = f->client_id;
	f->client.client_secret = f->client_secret;
	pam_get_item(f->pamh, PAM_RHOST, &rhost);
	if (snprintf(dir, sizeof(dir), "%s/%s", cfg->db_dir, SLOTS_DIR) >= (int)sizeof(dir))
		return refuse(f, LOG_ERR, PAM_AUTHINFO_UNAVAIL, "sign-in refused (unavailable)",
			      "db-dir is too long");
	r = pwb_device_slot_take(dir, cfg->openid_device_max_flows,
				 cfg->openid_device_max_flows_per_address, rhost, &f->slot, &err);
	if (r == PWB_EBUSY)
		return refuse(f, LOG_WARNING, PAM_AUTH_ERR,
			      "too many sign-ins in progress; try again later", err.msg);
	if (r < 0)
		return refuse(f, LOG_ERR, PAM_AUTHINFO_UNAVAIL, "sign-in refused (unavailable)",
			      pwb_error_text(&err, r));
	r = pwb_rp_provider_load(cfg, &f->provider, &err);
	if (r < 0)
		return refuse(f, LOG_ERR, map_code(r), "sign-in refused (unavailable)",
			      pwb_error_text(&err, r));
	return PAM_SUCCESS;
}

/* The user-facing line for a refusal the device grant classified. */
static const char *state_message(enum pwb_rp_device_state state)
{
	switch (state) {
	case PWB_RP_DEVICE_DENIED:
		return "sign-in denied at the identity provider";
	case PWB_RP_DEVICE_EXPIRED:
		return "the code expired before it was approved; connect again";
	case PWB_RP_DEVICE_NOT_ALLOWED:
		return "the identity provider does not allow device sign-in for this server";
	default:
		return "sign-in refused";
	}
}

static int refuse_state(struct flow *f, int r, enum pwb_rp_device_state state,
			const struct pwb_error *err)
{
	bool unavailable = r == PWB_EUNAVAIL || r == PWB_ECONFIG || r == PWB_ENOTFOUND;

	return refuse(f, unavailable || state == PWB_RP_DEVICE_NOT_ALLOWED ? LOG_ERR : LOG_NOTICE,
		      map_code(r),
		      unavailable ? "sign-in refused (unavailable)" : state_message(state),
		      pwb_error_text(err, r));
}

/* Asks the person to press Enter; false when the conversation failed,
 * which includes no answer at all (Linux-PAM's misc_conv answers end of
 * input with success and no response; Enter is an empty answer). */
static bool ask(struct flow *f, const char *text)
{
	char *answer = NULL;
	int r = pam_prompt(f->pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", text);
	bool answered = r == PAM_SUCCESS && answer;

	/* Whatever was typed (a pasted token, say) is not looked at. */
	pwb_free_secret(answer);
	return answered;
}

/* Prompts and polls until the token endpoint answers with tokens, refuses,
 * the deadline passes or the conversation fails. */
static int poll_for_token(struct flow *f, const char *prompt, struct pwb_rp_tokens *tokens)
{
	struct pwb_error err = {0};
	enum pwb_rp_device_state state;
	int64_t interval = f->device.interval, last = now_s();
	int64_t limit = f->device.expires_in < (int64_t)f->cfg->openid_device_timeout
			    ? f->device.expires_in
			    : (int64_t)f->cfg->openid_device_timeout;
	int64_t deadline = last + limit;
	int r;

	for (;;) {
		if (!ask(f, prompt)) {
			pam_syslog(f->pamh, LOG_NOTICE,
				   "user %s: device sign-in abandoned: the conversation failed "
				   "(the client went away)",
				   f->shown);
			return PAM_CONV_ERR;
		}
		prompt = PWB_DEVICE_REPROMPT;
		do {
			/* RFC 8628 3.5: never sooner than interval after the last request. */
			if (last + interval >= deadline)
				return refuse(f, LOG_NOTICE, PAM_AUTH_ERR,
					      state_message(PWB_RP_DEVICE_EXPIRED),
					      "the code expired before it was approved (after "
					      "min(expires_in, auth-openid-device-timeout))");
			sleep_until(last + interval);
			r = pwb_rp_device_poll(f->cfg, &f->provider, &f->client,
					       f->device.device_code, tokens, &state, &err);
			last = now_s();
			if (r < 0)
				return refuse_state(f, r, state, &err);
			if (state == PWB_RP_DEVICE_SLOW_DOWN)
				interval += PWB_RP_DEVICE_SLOW_DOWN_STEP;
		} while (state == PWB_RP_DEVICE_SLOW_DOWN);
		if (state == PWB_RP_DEVICE_OK)
			return PAM_SUCCESS;
	}
}

int pwb_device_obtain_token(pam_handle_t *pamh, int flags, const struct pwb_config *cfg,
			    const char *user, bool qr, char **id_token, char **client_id,
			    char **client_secret)
{
	_cleanup_(flow_clear) struct flow f = {
	    .pamh = pamh, .flags = flags, .cfg = cfg, .slot = -1};
	_cleanup_rp_tokens_ struct pwb_rp_tokens tokens = {.expires_in = -1};
	_cleanup_free_ char *prompt = NULL;
	struct pwb_error err = {0};
	enum pwb_rp_device_state state;
	char host[HOST_NAME_MAX + 1] = "";
	int r;

	*id_token = *client_id = *client_secret = NULL;
	pwb_names_escape(user, f.shown, sizeof(f.shown));
	r = prepare(&f);
	if (r != PAM_SUCCESS)
		return r;
	r = pwb_rp_device_authorize(cfg, &f.provider, &f.client, cfg->openid_scopes, &f.device,
				    &state, &err);
	if (r < 0)
		return refuse_state(&f, r, state, &err);
#ifndef HAVE_QRENCODE
	if (qr)
		pam_syslog(pamh, LOG_NOTICE,
			   "qr: ignored (pam_pwb_oidc was built without libqrencode)");
#endif
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "this server");
	r = pwb_device_prompt(host, user,
			      f.device.verification_uri_complete
				  ? f.device.verification_uri_complete
				  : f.device.verification_uri,
			      f.device.user_code, qr, &prompt);
	if (r < 0)
		return PAM_BUF_ERR;
	pam_syslog(pamh, LOG_INFO, "user %s: device sign-in started (code valid %lld s)", f.shown,
		   (long long)f.device.expires_in);
	r = poll_for_token(&f, prompt, &tokens);
	if (r != PAM_SUCCESS)
		return r;
	*id_token = PWB_TAKE_PTR(tokens.id_token);
	*client_id = PWB_TAKE_PTR(f.client_id);
	*client_secret = PWB_TAKE_PTR(f.client_secret);
	return PAM_SUCCESS;
}

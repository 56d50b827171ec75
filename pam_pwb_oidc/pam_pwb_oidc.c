/* pam_pwb_oidc: PAM auth by OpenID Connect ID token. A thin adapter: parse
 * the module arguments (client-id=, require-nonce with the expected nonce
 * from the PAM environment's PWB_OIDC_NONCE, device, qr), take the token
 * from PAM_AUTHTOK or, in device mode, from the module's own device flow
 * (device.c; PAM_AUTHTOK is never read), let pwb_oidc_authenticate()
 * decide, hand the claims to pam_pwb_mkhome and map the result; one
 * syslog line and one short conversation message per refusal. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>
#include "claims.h"
#include "config.h"
#include "device.h"
#include "jwt.h"
#include "log.h"
#include "names.h"
#include "oidc.h"
#include "secret.h"

/* The PAM environment variable a front end (pwb-login) sets to the nonce
 * it sent in the authorization request, for require-nonce. */
#define NONCE_ENV "PWB_OIDC_NONCE"

struct options {
	const char *config;    /* config=PATH, NULL: default */
	const char *client_id; /* client-id=ID: this service's only accepted audience */
	bool require_nonce;    /* require-nonce: the nonce claim must equal PWB_OIDC_NONCE */
	bool device;	       /* device: sign in with the device authorization grant */
	bool qr;	       /* qr: a QR code of the URL in the device prompt */
	bool debug;
};

static void parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0)
			o->config = argv[i] + 7;
		else if (strncmp(argv[i], "client-id=", 10) == 0 && argv[i][10])
			o->client_id = argv[i] + 10;
		else if (strcmp(argv[i], "require-nonce") == 0)
			o->require_nonce = true;
		else if (strcmp(argv[i], "device") == 0)
			o->device = true;
		else if (strcmp(argv[i], "qr") == 0)
			o->qr = true;
		else if (strcmp(argv[i], "debug") == 0)
			o->debug = true;
		else
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", argv[i]);
	}
}

/* libpwb is PAM-agnostic, so its cleanup takes void *; PAM wants its type. */
static void claims_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	pwb_claims_pam_cleanup(pamh, data, error_status);
}

/* The short user-facing reason for a refusal (never the token, never the
 * detail the log gets), by the check that failed. */
static const char *user_message(int code, const char *msg)
{
	if (code == PWB_EUNAVAIL || code == PWB_ECONFIG)
		return "sign-in refused (unavailable)";
	if (strncmp(msg, "username: token is for", 22) == 0)
		return "sign-in refused: signed in at the identity provider as another user";
	if (code == PWB_ELOCAL || strncmp(msg, "username:", 9) == 0)
		return "name not allowed";
	if (strncmp(msg, "aud:", 4) == 0 || strncmp(msg, "azp:", 4) == 0 ||
	    strncmp(msg, "nonce:", 6) == 0)
		return "sign-in refused: the token is not valid for this service";
	return "sign-in refused";
}

static int map_error(int code)
{
	switch (code) {
	case PWB_EUNAVAIL:
		return PAM_AUTHINFO_UNAVAIL;
	case PWB_ECONFIG:
		return PAM_AUTHINFO_UNAVAIL;
	case -ENOMEM:
		return PAM_BUF_ERR;
	default:
		return PAM_AUTH_ERR;
	}
}

/* Whether token signs user in (pwb_oidc_authenticate: the same checks for
 * a token from the front end and one from the device flow); on success
 * the claims go to pam_pwb_mkhome. */
static int accept_token(pam_handle_t *pamh, int flags, const struct pwb_config *cfg,
			const char *user, const char *shown, const char *token,
			const struct pwb_oidc_expect *expect, const char *what, bool debug)
{
	struct pwb_error err = {0};
	struct pwb_claims *claims = NULL;
	int r, pr;

	r = pwb_oidc_authenticate(cfg, user, token, strnlen(token, PWB_JWT_MAX_BYTES + 1), expect,
				  &claims, &err);
	if (r < 0) {
		pam_syslog(pamh, r == PWB_EUNAVAIL || r == PWB_ECONFIG ? LOG_ERR : LOG_NOTICE,
			   "user %s: %s refused: %s", shown, what, pwb_error_text(&err, r));
		if (!(flags & PAM_SILENT))
			pam_error(pamh, "%s", user_message(r, err.msg));
		/* Claims from an earlier success on this handle must not
		 * outlive a refusal. */
		pam_set_data(pamh, PWB_PAM_DATA_CLAIMS, NULL, NULL);
		return map_error(r);
	}
	/* Not root (pwb-login's stack): pam_pwb_mkhome hands the raw token
	 * to pwbd, which validates it again; PAM_AUTHTOK is gone by then. */
	if (geteuid() != 0 && !(claims->token = strdup(token))) {
		pwb_claims_free(claims);
		return PAM_BUF_ERR;
	}
	pr = pam_set_data(pamh, PWB_PAM_DATA_CLAIMS, claims, claims_cleanup);
	if (pr != PAM_SUCCESS) {
		pwb_claims_free(claims);
		pam_syslog(pamh, LOG_ERR, "user %s: cannot hand over claims: %s", shown,
			   pam_strerror(pamh, pr));
		return PAM_SERVICE_ERR;
	}
	if (debug)
		pam_syslog(pamh, LOG_DEBUG, "user %s: ID token accepted", shown);
	return PAM_SUCCESS;
}

/* Device mode: sshd looks the user up before PAM runs, so a name without
 * an account is refused before any code is requested; then the module's
 * own flow brings a token whose audience must be the device client. */
static int device_sign_in(pam_handle_t *pamh, int flags, const struct options *o, const char *user,
			  const char *shown)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	char host[HOST_NAME_MAX + 1] = "", *token = NULL, *client_id = NULL, *secret = NULL;
	int r, pr;

	if (!pam_modutil_getpwnam(pamh, user)) {
		if (gethostname(host, sizeof(host) - 1) < 0)
			snprintf(host, sizeof(host), "this server");
		pam_syslog(pamh, LOG_NOTICE,
			   "user %s: device sign-in refused: no such account (SSH needs it "
			   "first: SCIM or a web sign-in)",
			   shown);
		if (!(flags & PAM_SILENT))
			pam_error(pamh,
				  "no account %s on %s; sign in on the web first or ask your "
				  "administrator",
				  shown, host);
		return PAM_USER_UNKNOWN;
	}
	r = pwb_config_load(pwb_config_path(o->config), false, &cfg, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "user %s: %s", shown, pwb_error_text(&err, r));
		return PAM_AUTHINFO_UNAVAIL;
	}
	pr = pwb_device_obtain_token(pamh, flags, &cfg, user, o->qr || cfg.openid_device_qr, &token,
				     &client_id, &secret);
	if (pr == PAM_SUCCESS) {
		pr = accept_token(
		    pamh, flags, &cfg, user, shown, token,
		    &(struct pwb_oidc_expect){.client_id = client_id, .hmac_secret = secret},
		    "device sign-in", o->debug);
		if (pr == PAM_SUCCESS)
			pam_syslog(pamh, LOG_INFO, "user %s: device sign-in accepted", shown);
	}
	pwb_free_secret(token);
	pwb_free_secret(secret);
	free(client_id);
	pwb_config_free(&cfg);
	return pr;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	struct options o;
	const char *user = NULL, *token = NULL, *nonce;
	struct pwb_oidc_expect expect = {0};
	char shown[96];
	int r, pr;

	parse_options(pamh, argc, argv, &o);
	pwb_log_init(NULL, false, o.debug);
	pr = pam_get_user(pamh, &user, NULL);
	if (pr != PAM_SUCCESS || !user || !*user) {
		pam_syslog(pamh, LOG_NOTICE, "cannot determine the user name");
		return pr == PAM_SUCCESS ? PAM_USER_UNKNOWN : pr;
	}
	pwb_names_escape(user, shown, sizeof(shown));
	if (o.device)
		return device_sign_in(pamh, flags, &o, user, shown);
	pr = pam_get_authtok(pamh, PAM_AUTHTOK, &token, "ID token: ");
	if (pr != PAM_SUCCESS || !token) {
		pam_syslog(pamh, LOG_NOTICE, "user %s: no ID token given", shown);
		return pr == PAM_SUCCESS ? PAM_AUTH_ERR : pr;
	}
	r = pwb_config_load(pwb_config_path(o.config), false, &cfg, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "user %s: %s", shown, pwb_error_text(&err, r));
		return PAM_AUTHINFO_UNAVAIL;
	}
	expect.client_id = o.client_id;
	expect.require_nonce = o.require_nonce;
	/* Without require-nonce a nonce in the environment is still checked:
	 * a front end that sets it means it. */
	nonce = pam_getenv(pamh, NONCE_ENV);
	expect.nonce = nonce && *nonce ? nonce : NULL;
	pr = accept_token(pamh, flags, &cfg, user, shown, token, &expect, "sign-in", o.debug);
	pwb_config_free(&cfg);
	return pr;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

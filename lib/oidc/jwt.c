/* Compact JWS parsing, signature verification and claim checks for ID
 * tokens (see jwt.h). All cryptography is OpenSSL 3 EVP; this file only
 * arranges bytes (base64url, the ECDSA r||s to DER conversion). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include "cleanup.h"
#include "cleanup_ssl.h"
#include "jwt.h"
#include "names.h"

static const struct pwb_jws_alg algs[] = {
    {"RS256", PWB_JWS_RSA, "SHA256", NULL, 0},	  {"RS384", PWB_JWS_RSA, "SHA384", NULL, 0},
    {"RS512", PWB_JWS_RSA, "SHA512", NULL, 0},	  {"PS256", PWB_JWS_PSS, "SHA256", NULL, 0},
    {"PS384", PWB_JWS_PSS, "SHA384", NULL, 0},	  {"PS512", PWB_JWS_PSS, "SHA512", NULL, 0},
    {"ES256", PWB_JWS_EC, "SHA256", "P-256", 32}, {"ES384", PWB_JWS_EC, "SHA384", "P-384", 48},
    {"ES512", PWB_JWS_EC, "SHA512", "P-521", 66}, {"EdDSA", PWB_JWS_EDDSA, NULL, NULL, 0},
    {"HS256", PWB_JWS_HMAC, "SHA256", NULL, 0},	  {"HS384", PWB_JWS_HMAC, "SHA384", NULL, 0},
    {"HS512", PWB_JWS_HMAC, "SHA512", NULL, 0},
};

const struct pwb_jws_alg *pwb_jws_alg_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < PWB_ARRAY_SIZE(algs); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

static bool is_base64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int base64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : 63;
}

int pwb_jwt_base64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	_cleanup_free_ char *std = NULL;
	_cleanup_free_ unsigned char *buf = NULL;
	size_t i, padded, want;
	int n;

	*out = NULL;
	*outlen = 0;
	if (len % 4 == 1 || len > PWB_JWT_MAX_BYTES * 4)
		return PWB_EINVAL;
	for (i = 0; i < len; i++)
		if (!is_base64url_char(in[i]))
			return PWB_EINVAL;
	/* The bits past the last whole byte must be zero, so every value has
	 * exactly one encoding. */
	if (len % 4 > 1 && (base64url_value(in[len - 1]) & (len % 4 == 2 ? 0x0f : 0x03)) != 0)
		return PWB_EINVAL;
	padded = (len + 3) / 4 * 4;
	std = malloc(padded + 1);
	buf = malloc(padded / 4 * 3 + 1);
	if (!std || !buf)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	for (; i < padded; i++)
		std[i] = '=';
	std[padded] = '\0';
	want = len / 4 * 3 + (len % 4 == 2 ? 1 : len % 4 == 3 ? 2 : 0);
	n = padded ? EVP_DecodeBlock(buf, (const unsigned char *)std, (int)padded) : 0;
	if (n < 0 || (size_t)n < want)
		return PWB_EINVAL;
	buf[want] = '\0';
	*out = PWB_TAKE_PTR(buf);
	*outlen = want;
	return 0;
}

void pwb_jwt_free(struct pwb_jwt *jwt)
{
	if (!jwt)
		return;
	json_decref(jwt->header);
	json_decref(jwt->payload);
	free(jwt->signing_input);
	free(jwt->sig);
	free(jwt);
}

static int decode_json_part(const char *in, size_t len, const char *what, json_t **out,
			    struct pwb_error *err)
{
	_cleanup_free_ unsigned char *raw = NULL;
	json_error_t jerr;
	size_t rawlen;

	*out = NULL;
	if (pwb_jwt_base64url_decode(in, len, &raw, &rawlen) < 0)
		return pwb_error_set(err, PWB_EAUTH, "format: %s is not valid base64url", what);
	*out = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return pwb_error_set(err, PWB_EAUTH, "format: %s is not valid JSON (%s)", what,
				     jerr.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return pwb_error_set(err, PWB_EAUTH, "format: %s is not a JSON object", what);
	}
	return 0;
}

int pwb_jwt_parse(const char *token, size_t len, struct pwb_jwt **out, struct pwb_error *err)
{
	_cleanup_jwt_ struct pwb_jwt *jwt = NULL;
	const char *dot1, *dot2;
	json_t *alg, *kid;
	int r;

	*out = NULL;
	if (len > PWB_JWT_MAX_BYTES)
		return pwb_error_set(err, PWB_EAUTH, "format: token longer than %d bytes",
				     PWB_JWT_MAX_BYTES);
	if (len == 0 || memchr(token, '\0', len))
		return pwb_error_set(err, PWB_EAUTH, "format: empty or binary token");
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return pwb_error_set(err, PWB_EAUTH, "format: not a compact JWS (three parts)");
	jwt = calloc(1, sizeof(*jwt));
	if (!jwt)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = decode_json_part(token, (size_t)(dot1 - token), "header", &jwt->header, err);
	if (r < 0)
		return r;
	r = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", &jwt->payload, err);
	if (r < 0)
		return r;
	if (pwb_jwt_base64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &jwt->sig,
				     &jwt->sig_len) < 0)
		return pwb_error_set(err, PWB_EAUTH, "format: signature is not valid base64url");
	alg = json_object_get(jwt->header, "alg");
	if (!json_is_string(alg))
		return pwb_error_set(err, PWB_EAUTH, "alg: header has no alg");
	jwt->alg_name = json_string_value(alg);
	jwt->alg = pwb_jws_alg_find(jwt->alg_name);
	kid = json_object_get(jwt->header, "kid");
	if (kid && !json_is_string(kid))
		return pwb_error_set(err, PWB_EAUTH, "kid: header kid is not a string");
	jwt->kid = kid ? json_string_value(kid) : NULL;
	/* RFC 7515 4.1.11: a recipient must reject a token whose crit names an
	 * extension it does not understand, and we understand none. */
	if (json_object_get(jwt->header, "crit"))
		return pwb_error_set(err, PWB_EAUTH, "crit: header lists critical extensions");
	jwt->signing_input_len = (size_t)(dot2 - token);
	jwt->signing_input = strndup(token, jwt->signing_input_len);
	if (!jwt->signing_input)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	*out = PWB_TAKE_PTR(jwt);
	return 0;
}

/* True when `list` (comma list, blanks around items ignored) holds the
 * item s[0..n). */
static bool list_contains(const char *list, const char *s, size_t n)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *item = p;

		while (len > 0 && (*item == ' ' || *item == '\t')) {
			item++;
			len--;
		}
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			len--;
		if (len > 0 && len == n && strncmp(item, s, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

int pwb_jwt_check_alg(const struct pwb_jwt *jwt, const char *allowed, struct pwb_error *err)
{
	char shown[40];

	pwb_names_escape(jwt->alg_name, shown, sizeof(shown));
	if (!jwt->alg)
		return pwb_error_set(err, PWB_EAUTH, "alg: \"%s\" is not a supported algorithm",
				     shown);
	if (list_contains(allowed, jwt->alg_name, strlen(jwt->alg_name)))
		return 0;
	return pwb_error_set(err, PWB_EAUTH, "alg: \"%s\" is not in auth-openid-algorithms", shown);
}

/* JWS carries ECDSA signatures as fixed-size r||s; OpenSSL wants DER. */
static int ecdsa_raw_to_der(const unsigned char *sig, size_t len, size_t size, unsigned char **der,
			    size_t *derlen)
{
	_cleanup_ecdsa_sig_ ECDSA_SIG *es = NULL;
	_cleanup_bn_ BIGNUM *r = NULL;
	_cleanup_bn_ BIGNUM *s = NULL;
	int n;

	*der = NULL;
	if (len != 2 * size)
		return PWB_EAUTH;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)size, NULL);
	s = BN_bin2bn(sig + size, (int)size, NULL);
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
		return -ENOMEM;
	r = s = NULL; /* es owns them now */
	n = i2d_ECDSA_SIG(es, der);
	if (n <= 0)
		return -ENOMEM;
	*derlen = (size_t)n;
	return 0;
}

static bool key_fits_family(EVP_PKEY *key, const struct pwb_jws_alg *alg)
{
	switch (alg->family) {
	case PWB_JWS_RSA:
	case PWB_JWS_PSS:
		return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048;
	case PWB_JWS_EC:
		return EVP_PKEY_is_a(key, "EC") &&
		       EVP_PKEY_get_bits(key) == (int)(alg->ec_size == 66 ? 521 : alg->ec_size * 8);
	case PWB_JWS_EDDSA:
		return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
	case PWB_JWS_HMAC:
		return false;
	}
	return false;
}

int pwb_jwt_verify_key(const struct pwb_jwt *jwt, EVP_PKEY *key, struct pwb_error *err)
{
	_cleanup_free_ unsigned char *der = NULL;
	const unsigned char *sig = jwt->sig;
	size_t sig_len = jwt->sig_len;
	_cleanup_evp_md_ctx_ EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL; /* md's */
	int r;

	if (!jwt->alg || !key_fits_family(key, jwt->alg))
		return pwb_error_set(err, PWB_EAUTH, "key: key type does not fit alg %s",
				     jwt->alg ? jwt->alg->name : "(unknown)");
	if (jwt->alg->family == PWB_JWS_EC) {
		r = ecdsa_raw_to_der(jwt->sig, jwt->sig_len, jwt->alg->ec_size, &der, &sig_len);
		if (r == PWB_EAUTH)
			return pwb_error_set(err, PWB_EAUTH, "signature: wrong length for %s",
					     jwt->alg->name);
		if (r < 0)
			return pwb_error_set(err, r, "out of memory");
		sig = der;
	}
	md = EVP_MD_CTX_new();
	if (!md)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (EVP_DigestVerifyInit_ex(md, &pctx, jwt->alg->digest, NULL, NULL, key, NULL) != 1)
		return pwb_error_set(err, PWB_EAUTH, "signature: cannot verify %s with this key",
				     jwt->alg->name);
	if (jwt->alg->family == PWB_JWS_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		return pwb_error_set(err, PWB_EAUTH, "signature: cannot set up %s", jwt->alg->name);
	if (EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)jwt->signing_input,
			     jwt->signing_input_len) != 1)
		return pwb_error_set(err, PWB_EAUTH, "signature: %s signature does not verify",
				     jwt->alg->name);
	return 0;
}

int pwb_jwt_verify_hmac(const struct pwb_jwt *jwt, const void *key, size_t keylen,
			struct pwb_error *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;

	if (!jwt->alg || jwt->alg->family != PWB_JWS_HMAC)
		return pwb_error_set(err, PWB_EAUTH, "alg: not an HMAC algorithm");
	if (!key || keylen == 0)
		return pwb_error_set(err, PWB_EAUTH, "key: no client secret for %s",
				     jwt->alg->name);
	/* RFC 7518 3.2: the key must be at least as long as the hash. */
	if (keylen < (size_t)EVP_MD_get_size(EVP_get_digestbyname(jwt->alg->digest)))
		return pwb_error_set(err, PWB_EAUTH, "key: client secret too short for %s",
				     jwt->alg->name);
	if (!EVP_Q_mac(NULL, "HMAC", NULL, jwt->alg->digest, NULL, key, keylen,
		       (const unsigned char *)jwt->signing_input, jwt->signing_input_len, mac,
		       sizeof(mac), &maclen))
		return pwb_error_set(err, -EIO, "signature: HMAC failed");
	if (maclen != jwt->sig_len || CRYPTO_memcmp(mac, jwt->sig, maclen) != 0) {
		OPENSSL_cleanse(mac, sizeof(mac));
		return pwb_error_set(err, PWB_EAUTH, "signature: %s signature does not verify",
				     jwt->alg->name);
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

const char *pwb_jwt_claim_string(const struct pwb_jwt *jwt, const char *name)
{
	json_t *v = json_object_get(jwt->payload, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A NumericDate claim; PWB_ENOTFOUND when absent, PWB_EAUTH when not a number. */
static int numeric_date(const struct pwb_jwt *jwt, const char *name, int64_t *out)
{
	json_t *v = json_object_get(jwt->payload, name);
	double d;

	if (!v)
		return PWB_ENOTFOUND;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return PWB_EAUTH;
	d = json_real_value(v);
	if (!(d > -1e15 && d < 1e15))
		return PWB_EAUTH;
	*out = (int64_t)d;
	return 0;
}

/* True when `id` is client_id or one of `audiences`. */
static bool accepted_id(const char *id, const char *client_id, const char *audiences)
{
	return (client_id && strcmp(id, client_id) == 0) ||
	       list_contains(audiences, id, strlen(id));
}

int pwb_jwt_check_audience(const struct pwb_jwt *jwt, const char *client_id, const char *audiences,
			   struct pwb_error *err)
{
	json_t *aud = json_object_get(jwt->payload, "aud");
	json_t *azp = json_object_get(jwt->payload, "azp");
	bool found = false;
	size_t i, n = 0;

	if (client_id && !*client_id)
		client_id = NULL;
	if (json_is_string(aud)) {
		found = accepted_id(json_string_value(aud), client_id, audiences);
		n = 1;
	} else if (json_is_array(aud)) {
		n = json_array_size(aud);
		for (i = 0; i < n; i++) {
			json_t *a = json_array_get(aud, i);

			if (!json_is_string(a))
				return pwb_error_set(err, PWB_EAUTH, "aud: not a string array");
			if (accepted_id(json_string_value(a), client_id, audiences))
				found = true;
		}
	} else {
		return pwb_error_set(err, PWB_EAUTH, "aud: missing or not a string/array");
	}
	if (!found)
		return pwb_error_set(err, PWB_EAUTH, "aud: does not contain an accepted client id");
	/* OIDC Core 3.1.3.7: with several audiences the token must say which
	 * party it was issued to; when azp is present it must be one of us. */
	if (n > 1 && !azp)
		return pwb_error_set(err, PWB_EAUTH, "azp: several audiences and no azp");
	if (azp &&
	    (!json_is_string(azp) || !accepted_id(json_string_value(azp), client_id, audiences)))
		return pwb_error_set(err, PWB_EAUTH, "azp: not an accepted client id");
	return 0;
}

/* The nonce claim must be a string equal to `nonce`, compared in constant
 * time (the length is not secret: both sides know the nonce's format). */
static int check_nonce(const struct pwb_jwt *jwt, const char *nonce, struct pwb_error *err)
{
	const char *got = pwb_jwt_claim_string(jwt, "nonce");
	size_t n = strlen(nonce);

	if (!got)
		return pwb_error_set(err, PWB_EAUTH, "nonce: missing");
	if (strlen(got) != n || n == 0 || CRYPTO_memcmp(got, nonce, n) != 0)
		return pwb_error_set(err, PWB_EAUTH, "nonce: does not match");
	return 0;
}

int pwb_jwt_check_claims(const struct pwb_jwt *jwt, const struct pwb_jwt_expect *expect,
			 struct pwb_error *err)
{
	const char *iss = pwb_jwt_claim_string(jwt, "iss");
	int64_t exp, nbf, iat, leeway = expect->leeway;
	int r;

	if (!iss || strcmp(iss, expect->issuer) != 0)
		return pwb_error_set(err, PWB_EAUTH, "iss: not the configured issuer");
	r = pwb_jwt_check_audience(jwt, expect->client_id, expect->audiences, err);
	if (r < 0)
		return r;
	if (expect->nonce) {
		r = check_nonce(jwt, expect->nonce, err);
		if (r < 0)
			return r;
	}
	if (numeric_date(jwt, "exp", &exp) < 0)
		return pwb_error_set(err, PWB_EAUTH, "exp: missing or not a number");
	if (expect->now - leeway >= exp)
		return pwb_error_set(err, PWB_EAUTH, "exp: token expired %lld s ago",
				     (long long)(expect->now - exp));
	r = numeric_date(jwt, "nbf", &nbf);
	if (r == PWB_EAUTH)
		return pwb_error_set(err, PWB_EAUTH, "nbf: not a number");
	if (r == 0 && nbf > expect->now + leeway)
		return pwb_error_set(err, PWB_EAUTH, "nbf: token not valid for another %lld s",
				     (long long)(nbf - expect->now));
	if (numeric_date(jwt, "iat", &iat) < 0)
		return pwb_error_set(err, PWB_EAUTH, "iat: missing or not a number");
	if (iat > expect->now + leeway)
		return pwb_error_set(err, PWB_EAUTH, "iat: token issued %lld s in the future",
				     (long long)(iat - expect->now));
	return 0;
}

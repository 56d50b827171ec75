/* Test-only JWS signing (see testsign.h). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include "testsign.h"

char *testsign_b64url(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	size_t i, n;

	if (!out)
		return NULL;
	n = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

static const char *digest_of(const char *alg)
{
	const char *bits = alg + strlen(alg) - 3;

	if (strcmp(alg, "EdDSA") == 0)
		return NULL;
	return strcmp(bits, "256") == 0 ? "SHA256" : strcmp(bits, "384") == 0 ? "SHA384" : "SHA512";
}

/* DER ECDSA signature to the fixed-size r||s that JWS uses. */
static unsigned char *ec_raw(const unsigned char *der, size_t derlen, size_t size, size_t *len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	unsigned char *out = malloc(2 * size);

	if (!sig || !out || BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, (int)size) < 0 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + size, (int)size) < 0) {
		ECDSA_SIG_free(sig);
		free(out);
		return NULL;
	}
	ECDSA_SIG_free(sig);
	*len = 2 * size;
	return out;
}

static unsigned char *sign(const char *alg, const char *input, EVP_PKEY *key, const void *hmac_key,
			   size_t hmac_len, size_t *siglen)
{
	unsigned char *sig = NULL;
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	size_t len = 0;

	*siglen = 0;
	if (strcmp(alg, "none") == 0)
		return calloc(1, 1);
	if (alg[0] == 'H') {
		sig = malloc(EVP_MAX_MD_SIZE);
		if (sig && !EVP_Q_mac(NULL, "HMAC", NULL, digest_of(alg), NULL, hmac_key, hmac_len,
				      (const unsigned char *)input, strlen(input), sig,
				      EVP_MAX_MD_SIZE, siglen)) {
			free(sig);
			return NULL;
		}
		return sig;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit_ex(md, &pctx, digest_of(alg), NULL, NULL, key, NULL) != 1)
		goto fail;
	if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
			      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto fail;
	if (EVP_DigestSign(md, NULL, &len, (const unsigned char *)input, strlen(input)) != 1)
		goto fail;
	sig = malloc(len);
	if (!sig || EVP_DigestSign(md, sig, &len, (const unsigned char *)input, strlen(input)) != 1)
		goto fail;
	EVP_MD_CTX_free(md);
	if (alg[0] == 'E' && alg[1] == 'S') {
		size_t size = strcmp(alg, "ES256") == 0 ? 32 : strcmp(alg, "ES384") == 0 ? 48 : 66;
		unsigned char *raw = ec_raw(sig, len, size, siglen);

		free(sig);
		return raw;
	}
	*siglen = len;
	return sig;
fail:
	free(sig);
	EVP_MD_CTX_free(md);
	return NULL;
}

char *testsign_token(const char *alg, const char *kid, const char *header_extra, const char *claims,
		     EVP_PKEY *key, const void *hmac_key, size_t hmac_len)
{
	json_t *header = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
	char *htext = NULL, *h64 = NULL, *p64 = NULL, *input = NULL, *s64 = NULL, *out = NULL;
	unsigned char *sig = NULL;
	size_t siglen;

	if (!header)
		return NULL;
	if (kid)
		json_object_set_new(header, "kid", json_string(kid));
	if (header_extra) {
		json_t *extra = json_loads(header_extra, 0, NULL);

		if (!extra || json_object_update(header, extra) < 0) {
			json_decref(extra);
			goto out;
		}
		json_decref(extra);
	}
	htext = json_dumps(header, JSON_COMPACT);
	if (!htext)
		goto out;
	h64 = testsign_b64url(htext, strlen(htext));
	p64 = testsign_b64url(claims, strlen(claims));
	if (!h64 || !p64 || asprintf(&input, "%s.%s", h64, p64) < 0)
		goto out;
	sig = sign(alg, input, key, hmac_key, hmac_len, &siglen);
	if (!sig)
		goto out;
	s64 = testsign_b64url(sig, siglen);
	if (!s64 || asprintf(&out, "%s.%s", input, s64) < 0)
		out = NULL;
out:
	json_decref(header);
	free(htext);
	free(h64);
	free(p64);
	free(input);
	free(sig);
	free(s64);
	return out;
}

static int set_b64(json_t *obj, const char *name, const unsigned char *data, size_t len)
{
	char *s = testsign_b64url(data, len);
	int r = s ? json_object_set_new(obj, name, json_string(s)) : -1;

	free(s);
	return r;
}

static int set_bn(json_t *obj, const char *name, EVP_PKEY *key, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n, r;

	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return -1;
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n <= 0)
		return -1;
	r = set_b64(obj, name, buf, (size_t)n);
	return r;
}

char *testsign_jwk(EVP_PKEY *key, const char *kid, const char *alg)
{
	json_t *jwk = json_object();
	unsigned char buf[256];
	char group[64];
	size_t len = 0;
	char *out = NULL;
	int ok;

	if (!jwk)
		return NULL;
	if (EVP_PKEY_is_a(key, "RSA")) {
		ok = json_object_set_new(jwk, "kty", json_string("RSA")) == 0 &&
		     set_bn(jwk, "n", key, OSSL_PKEY_PARAM_RSA_N) == 0 &&
		     set_bn(jwk, "e", key, OSSL_PKEY_PARAM_RSA_E) == 0;
	} else if (EVP_PKEY_is_a(key, "EC")) {
		size_t size;

		ok = EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), NULL) &&
		     EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf),
						     &len) &&
		     len > 1 && buf[0] == 0x04;
		size = (len - 1) / 2;
		ok = ok && json_object_set_new(jwk, "kty", json_string("EC")) == 0 &&
		     json_object_set_new(jwk, "crv",
					 json_string(strcmp(group, "prime256v1") == 0 ? "P-256"
						     : strcmp(group, "secp384r1") == 0
							 ? "P-384"
							 : "P-521")) == 0 &&
		     set_b64(jwk, "x", buf + 1, size) == 0 &&
		     set_b64(jwk, "y", buf + 1 + size, size) == 0;
	} else {
		len = sizeof(buf);
		ok = EVP_PKEY_get_raw_public_key(key, buf, &len) &&
		     json_object_set_new(jwk, "kty", json_string("OKP")) == 0 &&
		     json_object_set_new(
			 jwk, "crv",
			 json_string(EVP_PKEY_is_a(key, "ED448") ? "Ed448" : "Ed25519")) == 0 &&
		     set_b64(jwk, "x", buf, len) == 0;
	}
	if (ok && kid)
		ok = json_object_set_new(jwk, "kid", json_string(kid)) == 0;
	if (ok && alg)
		ok = json_object_set_new(jwk, "alg", json_string(alg)) == 0;
	if (ok)
		ok = json_object_set_new(jwk, "use", json_string("sig")) == 0;
	if (ok)
		out = json_dumps(jwk, JSON_COMPACT);
	json_decref(jwk);
	return out;
}

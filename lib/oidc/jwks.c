/* JWKS parsing into EVP_PKEY with OpenSSL 3's fromdata API, and key
 * selection by kid and algorithm (see jwks.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include "cleanup.h"
#include "cleanup_json.h"
#include "cleanup_ssl.h"
#include "jwks.h"

static void jwk_clear(struct pwb_jwk *k)
{
	free(k->kid);
	free(k->kty);
	free(k->crv);
	free(k->alg);
	free(k->use);
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

void pwb_jwks_free(struct pwb_jwks *jwks)
{
	size_t i;

	if (!jwks)
		return;
	for (i = 0; i < jwks->n; i++)
		jwk_clear(&jwks->keys[i]);
	free(jwks->keys);
	free(jwks);
}

/* A base64url member decoded; NULL if absent or malformed. */
static unsigned char *member_bytes(json_t *obj, const char *name, size_t *len)
{
	json_t *v = json_object_get(obj, name);
	unsigned char *out;

	if (!json_is_string(v))
		return NULL;
	if (pwb_jwt_base64url_decode(json_string_value(v), json_string_length(v), &out, len) < 0)
		return NULL;
	if (*len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	_cleanup_ossl_param_ OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	_cleanup_evp_pkey_ctx_ EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (!params)
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		return NULL;
	return pkey;
}

static EVP_PKEY *rsa_key(json_t *obj)
{
	_cleanup_free_ unsigned char *n = NULL, *e = NULL;
	size_t nlen, elen;
	_cleanup_bn_ BIGNUM *bn_n = NULL;
	_cleanup_bn_ BIGNUM *bn_e = NULL;
	_cleanup_ossl_param_bld_ OSSL_PARAM_BLD *bld = NULL;
	_cleanup_evp_pkey_ EVP_PKEY *pkey = NULL;

	n = member_bytes(obj, "n", &nlen);
	e = member_bytes(obj, "e", &elen);
	if (!n || !e || nlen < 256 || nlen > 2048 || elen > 8)
		return NULL;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		return NULL;
	pkey = from_params("RSA", bld);
	if (!pkey || EVP_PKEY_get_bits(pkey) < 2048)
		return NULL;
	return PWB_TAKE_PTR(pkey);
}

static EVP_PKEY *ec_key(json_t *obj, const char *crv)
{
	static const struct {
		const char *crv, *group;
		size_t size;
	} curves[] = {
	    {"P-256", "prime256v1", 32},
	    {"P-384", "secp384r1", 48},
	    {"P-521", "secp521r1", 66},
	};
	_cleanup_free_ unsigned char *x = NULL, *y = NULL;
	unsigned char point[1 + 2 * 66];
	size_t xlen, ylen, i, size = 0;
	const char *group = NULL;
	_cleanup_ossl_param_bld_ OSSL_PARAM_BLD *bld = NULL;

	for (i = 0; i < PWB_ARRAY_SIZE(curves); i++)
		if (strcmp(crv, curves[i].crv) == 0) {
			group = curves[i].group;
			size = curves[i].size;
		}
	x = member_bytes(obj, "x", &xlen);
	y = member_bytes(obj, "y", &ylen);
	if (!group || !x || !y || xlen != size || ylen != size)
		return NULL;
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, x, size);
	memcpy(point + 1 + size, y, size);
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
		return NULL;
	return from_params("EC", bld);
}

static EVP_PKEY *okp_key(json_t *obj, const char *crv)
{
	_cleanup_free_ unsigned char *x = NULL;
	size_t xlen;

	x = member_bytes(obj, "x", &xlen);
	if (!x)
		return NULL;
	if (strcmp(crv, "Ed25519") == 0 && xlen == 32)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
	if (strcmp(crv, "Ed448") == 0 && xlen == 57)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, x, xlen);
	return NULL;
}

static char *member_dup(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* Fills k from one JWK object; false when it cannot serve signatures. */
static bool parse_key(json_t *obj, struct pwb_jwk *k)
{
	json_t *kty = json_object_get(obj, "kty"), *crv = json_object_get(obj, "crv");
	json_t *use = json_object_get(obj, "use");

	memset(k, 0, sizeof(*k));
	if (!json_is_string(kty) || (use && !json_is_string(use)))
		return false;
	if (use && strcmp(json_string_value(use), "sig") != 0)
		return false;
	if (strcmp(json_string_value(kty), "RSA") == 0)
		k->pkey = rsa_key(obj);
	else if (strcmp(json_string_value(kty), "EC") == 0 && json_is_string(crv))
		k->pkey = ec_key(obj, json_string_value(crv));
	else if (strcmp(json_string_value(kty), "OKP") == 0 && json_is_string(crv))
		k->pkey = okp_key(obj, json_string_value(crv));
	if (!k->pkey)
		return false;
	k->kty = member_dup(obj, "kty");
	k->crv = member_dup(obj, "crv");
	k->kid = member_dup(obj, "kid");
	k->alg = member_dup(obj, "alg");
	k->use = member_dup(obj, "use");
	if (!k->kty || (json_is_string(json_object_get(obj, "kid")) && !k->kid)) {
		jwk_clear(k);
		return false;
	}
	return true;
}

int pwb_jwks_parse(const char *text, size_t len, struct pwb_jwks **out, struct pwb_error *err)
{
	_cleanup_jwks_ struct pwb_jwks *jwks = NULL;
	_cleanup_json_ json_t *root = NULL;
	json_error_t jerr;
	json_t *keys;
	size_t i, n;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pwb_error_set(err, PWB_EINVAL, "JWKS: line %d: %s", jerr.line, jerr.text);
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys))
		return pwb_error_set(err, PWB_EINVAL, "JWKS: no \"keys\" array");
	n = json_array_size(keys);
	if (n > PWB_JWKS_MAX_KEYS)
		n = PWB_JWKS_MAX_KEYS;
	jwks = calloc(1, sizeof(*jwks));
	if (jwks)
		jwks->keys = calloc(n ? n : 1, sizeof(*jwks->keys));
	if (!jwks || !jwks->keys)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (parse_key(json_array_get(keys, i), &jwks->keys[jwks->n]))
			jwks->n++;
	*out = PWB_TAKE_PTR(jwks);
	return 0;
}

bool pwb_jwk_fits(const struct pwb_jwk *key, const struct pwb_jws_alg *alg)
{
	if (!alg || (key->use && strcmp(key->use, "sig") != 0))
		return false;
	if (key->alg && strcmp(key->alg, alg->name) != 0)
		return false;
	switch (alg->family) {
	case PWB_JWS_RSA:
	case PWB_JWS_PSS:
		return strcmp(key->kty, "RSA") == 0;
	case PWB_JWS_EC:
		return strcmp(key->kty, "EC") == 0 && key->crv && strcmp(key->crv, alg->curve) == 0;
	case PWB_JWS_EDDSA:
		return strcmp(key->kty, "OKP") == 0;
	case PWB_JWS_HMAC:
		return false;
	}
	return false;
}

size_t pwb_jwks_select(const struct pwb_jwks *jwks, const char *kid, const struct pwb_jws_alg *alg,
		       const struct pwb_jwk **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; jwks && i < jwks->n && n < max; i++) {
		const struct pwb_jwk *k = &jwks->keys[i];

		if (kid && (!k->kid || strcmp(k->kid, kid) != 0))
			continue;
		if (pwb_jwk_fits(k, alg))
			out[n++] = k;
	}
	return n;
}

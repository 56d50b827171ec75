/* pwb-test-sign: makes ID tokens and JWKs for tests (never shipped).
 *   pwb-test-sign sign --alg ALG [--key PRIV.pem] [--kid KID]
 *                      [--header JSON] [--hmac-key-file FILE] --claims JSON
 *   pwb-test-sign jwk --key PRIV.pem [--kid KID] [--alg ALG]
 *   pwb-test-sign encrypt --key-file FILE --secret TEXT
 * sign prints the compact JWS; --claims is used byte for byte as the
 * payload (so malformed JSON can be signed); --header is merged into the
 * header (crit, jku, …); alg "none" makes an unsigned token; HS* are keyed
 * with the bytes of --hmac-key-file. jwk prints the public JWK. encrypt
 * prints TEXT in `pwbadm encrypt-password` form (pwb_secret_encrypt, the
 * key file created when missing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include "secret.h"
#include "testsign.h"

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key;

	if (!f) {
		perror(path);
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!key)
		fprintf(stderr, "%s: not a PEM private key\n", path);
	return key;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(65536);

	*len = 0;
	if (!f || !buf) {
		perror(path);
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

static int usage(void)
{
	fprintf(stderr, "usage: pwb-test-sign sign --alg ALG [--key PEM] [--kid KID] [--header "
			"JSON] [--hmac-key-file FILE] --claims JSON\n"
			"       pwb-test-sign jwk --key PEM [--kid KID] [--alg ALG]\n"
			"       pwb-test-sign encrypt --key-file FILE --secret TEXT\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *alg = NULL, *keyfile = NULL, *kid = NULL, *header = NULL, *claims = NULL;
	const char *hmac_file = NULL, *key_file = NULL, *secret = NULL;
	EVP_PKEY *key = NULL;
	char *hmac = NULL, *out;
	size_t hmac_len = 0;
	int i;

	if (argc < 2)
		return usage();
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--alg") == 0)
			alg = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			keyfile = argv[i + 1];
		else if (strcmp(argv[i], "--kid") == 0)
			kid = argv[i + 1];
		else if (strcmp(argv[i], "--header") == 0)
			header = argv[i + 1];
		else if (strcmp(argv[i], "--claims") == 0)
			claims = argv[i + 1];
		else if (strcmp(argv[i], "--hmac-key-file") == 0)
			hmac_file = argv[i + 1];
		else if (strcmp(argv[i], "--key-file") == 0)
			key_file = argv[i + 1];
		else if (strcmp(argv[i], "--secret") == 0)
			secret = argv[i + 1];
		else
			return usage();
	}
	if (i != argc)
		return usage();
	if (keyfile && !(key = load_key(keyfile)))
		return 1;
	if (strcmp(argv[1], "encrypt") == 0) {
		struct pwb_error err = {0};

		if (!key_file || !secret)
			return usage();
		if (pwb_secret_encrypt(key_file, true, secret, &out, &err) < 0) {
			fprintf(stderr, "pwb-test-sign: %s\n", err.msg);
			return 1;
		}
	} else if (strcmp(argv[1], "jwk") == 0) {
		if (!key)
			return usage();
		out = testsign_jwk(key, kid, alg);
	} else if (strcmp(argv[1], "sign") == 0) {
		if (!alg || !claims)
			return usage();
		if (hmac_file && !(hmac = read_file(hmac_file, &hmac_len)))
			return 1;
		if (!key && alg[0] != 'H' && strcmp(alg, "none") != 0)
			return usage();
		out = testsign_token(alg, kid, header, claims, key, hmac, hmac_len);
	} else {
		return usage();
	}
	EVP_PKEY_free(key);
	free(hmac);
	if (!out) {
		fprintf(stderr, "pwb-test-sign: failed\n");
		return 1;
	}
	puts(out);
	free(out);
	return 0;
}

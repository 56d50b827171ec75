/* Scope-bound release of OpenSSL objects (see cleanup.h), one helper per
 * type pwb owns: keys, digest, cipher and key contexts, parameter
 * builders, big numbers and ECDSA signatures. Included only by OpenSSL
 * users (oidc, the store's token hashing, pwbadm), so base itself stays
 * libc-only. */
#ifndef PWB_CLEANUP_SSL_H
#define PWB_CLEANUP_SSL_H

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include "cleanup.h"

PWB_DEFINE_POINTER_CLEANUP(pwb_evp_pkey_freep, EVP_PKEY, EVP_PKEY_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_evp_pkey_ctx_freep, EVP_PKEY_CTX, EVP_PKEY_CTX_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_evp_md_ctx_freep, EVP_MD_CTX, EVP_MD_CTX_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_evp_cipher_ctx_freep, EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_ossl_param_bld_freep, OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_ossl_param_freep, OSSL_PARAM, OSSL_PARAM_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_bn_freep, BIGNUM, BN_free)
PWB_DEFINE_POINTER_CLEANUP(pwb_ecdsa_sig_freep, ECDSA_SIG, ECDSA_SIG_free)

#define _cleanup_evp_pkey_	 _cleanup_(pwb_evp_pkey_freep)
#define _cleanup_evp_pkey_ctx_	 _cleanup_(pwb_evp_pkey_ctx_freep)
#define _cleanup_evp_md_ctx_	 _cleanup_(pwb_evp_md_ctx_freep)
#define _cleanup_evp_cipher_ctx_ _cleanup_(pwb_evp_cipher_ctx_freep)
#define _cleanup_ossl_param_bld_ _cleanup_(pwb_ossl_param_bld_freep)
#define _cleanup_ossl_param_	 _cleanup_(pwb_ossl_param_freep)
#define _cleanup_bn_		 _cleanup_(pwb_bn_freep)
#define _cleanup_ecdsa_sig_	 _cleanup_(pwb_ecdsa_sig_freep)

#endif

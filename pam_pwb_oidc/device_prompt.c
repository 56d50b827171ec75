/* The device sign-in prompt and its optional QR code (see device.h). The
 * QR code comes from libqrencode when configure found it; without it the
 * URL line alone is shown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "device.h"
#include "names.h"
#ifdef HAVE_QRENCODE
#include <qrencode.h>
#endif

#define QR_MARGIN  2 /* modules of quiet zone around the code */
#define HOST_SHOWN 256

#ifdef HAVE_QRENCODE
/* Whether module (x, y) is dark; the quiet zone and beyond are light. */
static bool dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

int pwb_device_qr(const char *text, char **out)
{
	/* Indexed by (top light) | (bottom light) << 1: a light module is
	 * drawn, so the code reads on a terminal's dark background. */
	static const char *const cells[] = {" ", "\u2580", "\u2584", "\u2588"};
	QRcode *qr;
	char *p;
	int x, y, side;
	size_t cap;

	*out = NULL;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (!qr)
		return errno == ENOMEM ? -ENOMEM : PWB_EINVAL;
	side = qr->width + 2 * QR_MARGIN;
	/* 3 bytes a cell at most, a newline a line, a NUL. */
	cap = (size_t)((side + 1) / 2) * (size_t)(3 * side + 1) + 1;
	*out = p = malloc(cap);
	if (!p) {
		QRcode_free(qr);
		return -ENOMEM;
	}
	for (y = -QR_MARGIN; y < qr->width + QR_MARGIN; y += 2) {
		for (x = -QR_MARGIN; x < qr->width + QR_MARGIN; x++) {
			int top = !dark(qr, x, y);
			int bottom = y + 1 < qr->width + QR_MARGIN ? !dark(qr, x, y + 1) : 0;
			const char *c = cells[top | bottom << 1];
			size_t n = strlen(c);

			memcpy(p, c, n);
			p += n;
		}
		*p++ = '\n';
	}
	*p = '\0';
	QRcode_free(qr);
	return 0;
}
#else
int pwb_device_qr(const char *text, char **out)
{
	*out = NULL;
	return -ENOTSUP;
}
#endif

int pwb_device_prompt(const char *host, const char *user, const char *uri, const char *user_code,
		      bool qr, char **out)
{
	char host_shown[HOST_SHOWN];
	char *code = NULL;
	int n;

	*out = NULL;
	pwb_names_escape(host, host_shown, sizeof(host_shown));
	if (qr && pwb_device_qr(uri, &code) == -ENOMEM)
		return -ENOMEM;
	n = asprintf(out,
		     "Sign in to %s as %s\nOpen: %s\nCode: %s\n%sPress Enter after you approve: ",
		     host_shown, user, uri, user_code, code ? code : "");
	free(code);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

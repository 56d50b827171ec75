/* pwb-pam-drive: runs pam_authenticate through the real libpam with the
 * password (ID token) read from stdin, of any length (pamtester's
 * conversation stops at 4 KiB), for tests and bench/auth.
 *   pwb-pam-drive [--confdir DIR] [--repeat N] SERVICE USER < secret
 * Exit status: 0 if every run returned PAM_SUCCESS, 1 otherwise. With
 * --repeat it prints "runs N median_us M min_us A max_us B" (the time of
 * pam_authenticate alone, pam_start/pam_end excluded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <security/pam_appl.h>

static char *secret;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(secret);
		else if (msg[i]->msg_style == PAM_ERROR_MSG || msg[i]->msg_style == PAM_TEXT_INFO)
			fprintf(stderr, "pam: %s\n", msg[i]->msg);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static char *read_stdin(void)
{
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap);

	while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *grown = realloc(buf, cap * 2);

			if (!grown) {
				free(buf);
				return NULL;
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (!buf)
		return NULL;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	const char *confdir = NULL;
	struct pam_conv pc = {conv, NULL};
	long *times;
	int repeat = 1, i, failures = 0, argi = 1;

	while (argi + 1 < argc && strncmp(argv[argi], "--", 2) == 0) {
		if (strcmp(argv[argi], "--confdir") == 0)
			confdir = argv[argi + 1];
		else if (strcmp(argv[argi], "--repeat") == 0)
			repeat = atoi(argv[argi + 1]);
		else
			break;
		argi += 2;
	}
	if (argc - argi != 2 || repeat < 1) {
		fprintf(stderr, "usage: pwb-pam-drive [--confdir DIR] [--repeat N] SERVICE USER\n");
		return 2;
	}
	secret = read_stdin();
	times = calloc((size_t)repeat, sizeof(*times));
	if (!secret || !times)
		return 2;
	for (i = 0; i < repeat; i++) {
		pam_handle_t *pamh = NULL;
		struct timespec t0, t1;
		int r;

		r = pam_start_confdir(argv[argi], argv[argi + 1], &pc, confdir, &pamh);
		if (r != PAM_SUCCESS) {
			fprintf(stderr, "pam_start: %s\n", pam_strerror(pamh, r));
			return 2;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = pam_authenticate(pamh, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		times[i] = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
		if (r != PAM_SUCCESS) {
			failures++;
			if (repeat == 1)
				fprintf(stderr, "pam_authenticate: %s\n", pam_strerror(pamh, r));
		}
		pam_end(pamh, r);
	}
	if (repeat > 1) {
		qsort(times, (size_t)repeat, sizeof(*times), cmp_long);
		printf("runs %d failures %d median_us %ld min_us %ld max_us %ld\n", repeat,
		       failures, times[repeat / 2], times[0], times[repeat - 1]);
	}
	free(times);
	free(secret);
	return failures ? 1 : 0;
}

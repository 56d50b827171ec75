/* Caps on device flows in progress (see device.h): one flock(2)'d file per
 * slot in a root-only directory, each holding its flow's remote address.
 * A short lock on "lock" makes counting and taking one step, so two flows
 * from one address cannot both slip under the cap. Locks die with their
 * process: nothing to clean up after a killed sshd child. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"
#include "device.h"

#define ADDRESS_MAX 255 /* bytes of a PAM_RHOST kept in a slot */

/* The directory, made when missing; refused unless it is ours and closed
 * to everyone else (a planted directory would let others hold slots). */
static int open_dir(const char *dir, struct pwb_error *err)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pwb_error_set(err, -errno, "%s: cannot create: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", dir, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return pwb_error_set(err, -EPERM,
				     "%s: not owned by the module's user or open to others", dir);
	}
	return fd;
}

static int open_file(int dirfd, const char *name, struct pwb_error *err)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return pwb_error_set(err, -errno, "device flow slot %s: %s", name, strerror(errno));
	return fd;
}

/* Whether the held slot fd was taken for address. */
static bool slot_is_from(int fd, const char *address)
{
	char held[ADDRESS_MAX + 2];
	ssize_t n = pread(fd, held, sizeof(held) - 1, 0);

	if (n < 0)
		return false;
	held[n] = '\0';
	return strcmp(held, address) == 0;
}

/* Counts the held slots from address and takes the first free one (*free_fd,
 * still locked; -1 when every slot is held). Called under the "lock" lock. */
static int scan(int dirfd, unsigned max_flows, const char *address, unsigned *same, int *free_fd,
		struct pwb_error *err)
{
	char name[32];
	unsigned i;
	bool locked;
	int fd;

	*same = 0;
	*free_fd = -1;
	for (i = 0; i < max_flows; i++) {
		snprintf(name, sizeof(name), "slot-%u", i);
		fd = open_file(dirfd, name, err);
		if (fd < 0) {
			if (*free_fd >= 0)
				close(*free_fd);
			*free_fd = -1;
			return fd;
		}
		locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
		if (locked && *free_fd < 0) {
			*free_fd = fd;
			continue;
		}
		if (!locked && errno == EWOULDBLOCK && address && slot_is_from(fd, address))
			(*same)++;
		/* A slot locked but not needed is released by close. */
		close(fd);
	}
	return 0;
}

int pwb_device_slot_take(const char *dir, unsigned max_flows, unsigned max_per_address,
			 const char *address, int *fd, struct pwb_error *err)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1, slot = -1;
	unsigned same;
	size_t n;
	int r;

	*fd = -1;
	if (address && (!*address || strlen(address) > ADDRESS_MAX))
		address = NULL;
	dirfd = open_dir(dir, err);
	if (dirfd < 0)
		return dirfd;
	lockfd = open_file(dirfd, "lock", err);
	if (lockfd < 0)
		return lockfd;
	if (flock(lockfd, LOCK_EX) < 0)
		return pwb_error_set(err, -errno, "%s/lock: %s", dir, strerror(errno));
	r = scan(dirfd, max_flows, address, &same, &slot, err);
	if (r < 0)
		return r;
	if (address && same >= max_per_address)
		return pwb_error_set(err, PWB_EBUSY,
				     "%u device sign-ins from this address are in progress "
				     "(auth-openid-device-max-flows-per-address=%u)",
				     same, max_per_address);
	if (slot < 0)
		return pwb_error_set(err, PWB_EBUSY,
				     "%u device sign-ins are in progress on this host "
				     "(auth-openid-device-max-flows=%u)",
				     max_flows, max_flows);
	n = address ? strlen(address) : 0;
	if (ftruncate(slot, 0) < 0 || (n && pwrite(slot, address, n, 0) != (ssize_t)n))
		return pwb_error_set(err, -EIO, "%s: cannot record a device flow", dir);
	*fd = PWB_TAKE_FD(slot);
	return 0;
}

void pwb_device_slot_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

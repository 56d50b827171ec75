/* pwbd's admin operations on group name mappings (pwbadm map-group,
 * unmap-group, list-group-maps): group.map {displayName, name},
 * group.unmap {displayName}, group.maps -> {maps}. The store checks every
 * collision (store_group_maps.c); this file only carries the arguments. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "store.h"

/* args.displayName: text the store validates (length, control bytes). */
static int display_arg(json_t *args, const char **out, struct pwb_error *err)
{
	int rc = admin_arg_text(args, "displayName", out, err);

	if (rc == 0 && !*out)
		rc = pwb_error_set(err, PWB_EINVAL, "argument displayName: missing");
	return rc;
}

/* ---- group.map {displayName, name} -> {map} ---- */

static int map_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct pwb_group_map *m = vctx;

	m->created = 0;
	return pwb_group_map_put(txn, m, err);
}

int admin_group_map(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct pwb_group_map m = {0};
	const char *display;
	int rc;

	if ((rc = display_arg(call->req->args, &display, err)) < 0 ||
	    (rc = admin_arg_name(call->req->args, "name", m.name, err)) < 0)
		return rc;
	m.display_name = strdup(display);
	if (!m.display_name)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_write(call->st, map_txn, &m, err);
	if (rc == 0 && !(*result = json_pack("{s:o}", "map", pwb_group_map_to_json(&m))))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_group_map_clear(&m);
	return rc;
}

/* ---- group.unmap {displayName} -> {} ---- */

static int unmap_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	int rc = pwb_group_map_delete(txn, vctx, err);

	if (rc == PWB_ENOTFOUND)
		return pwb_error_set(err, rc, "no mapping for that display name");
	return rc;
}

int admin_group_unmap(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	const char *display;
	int rc;

	if ((rc = display_arg(call->req->args, &display, err)) < 0)
		return rc;
	rc = pwb_store_write(call->st, unmap_txn, (void *)display, err);
	if (rc == 0 && !(*result = json_object()))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	return rc;
}

/* ---- group.maps -> {maps: [...]} ---- */

static int list_one(const struct pwb_group_map *m, void *vctx)
{
	return json_array_append_new(vctx, pwb_group_map_to_json(m)) ? -ENOMEM : 0;
}

static int list_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	json_array_clear(vctx);
	return pwb_group_map_foreach(txn, list_one, vctx, err);
}

int admin_group_maps(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *maps = json_array();
	int rc;

	if (!maps)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_read(call->st, list_txn, maps, err);
	if (rc < 0) {
		json_decref(maps);
		return rc;
	}
	*result = json_pack("{s:o}", "maps", maps);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

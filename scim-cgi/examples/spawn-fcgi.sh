#!/bin/sh
# pwb-scim under spawn-fcgi (instead of systemd): as the store user, on a
# socket the web server's user may connect to.
install -d -o pwb -g www-data -m 0750 /run/pwb-scim
exec spawn-fcgi -n -s /run/pwb-scim/pwb-scim.sock -M 0660 -u pwb -g pwb -U www-data -G www-data \
	-- /usr/sbin/pwb-scim

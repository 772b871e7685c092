/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session_internal.h - what the model and the tests see of a session (internal). */
#ifndef ENS_SESSION_INTERNAL_H
#define ENS_SESSION_INTERNAL_H

#include "ens.h"
#include "net.h"

/* Tests: observe every intermediate of the session's next forwards (NULL to stop). */
void ens_session_set_debug_hook(ens_session *s, ens_net_hook hook, void *user);

/* Tests: bytes of the activation arena reserved so far, and the plan's front (plan.h) of the
 * batch last run (0 blocks: none). */
size_t ens_session_arena_bytes(const ens_session *s);
void ens_session_front(const ens_session *s, int *blocks, int *chunk);

#endif

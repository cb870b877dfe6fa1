// Forwards to kernel/xfrm/backend.h, where the XFRM backend lives now. Kept only for
// src/daemon/daemon.cc, which another branch of issue 16 is changing; remove this file (and the
// kernel -> kernel/xfrm edge of docs/architecture.md) once daemon.cc includes the new path.
#pragma once

#include "kernel/xfrm/backend.h"

#pragma once
// The whole goro API.
#include "goro/chan.h"
#include "goro/error.h"
#include "goro/panic.h"
#include "goro/registry.h"
#include "goro/report.h"
#include "goro/runtime.h"
#include "goro/select.h"

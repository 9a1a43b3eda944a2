/* libimg: read and write checkpoint images.  Include this for everything. */
#ifndef LIBIMG_H
#define LIBIMG_H

#include "img/base.h"
#include "img/source.h"
#include "img/schema.h"
#include "img/pb.h"
#include "img/json.h"
#include "img/image.h"
#include "img/cli.h"
#include "img/cmd.h"
#include "img/elfcore.h"
#include "img/check.h"
#include "img/profile.h"
#include "img/tab.h"
#include "img/linuxcr.h"

#endif

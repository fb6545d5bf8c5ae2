/* adapters.c - the table of protocol adapters; add new ones here. */
#include <stddef.h>

#include "lg.h"

extern const struct lg_adapter lg_adapter_kamrat, lg_adapter_mqtt, lg_adapter_xmpp, lg_adapter_json;

const struct lg_adapter *const lg_adapters[] = {
    &lg_adapter_kamrat, &lg_adapter_mqtt, &lg_adapter_xmpp, &lg_adapter_json, NULL,
};

// Every link kind's validator registers itself on import; the handle imports this so that any
// way into the library (index.js or handle.js) knows all kinds.
import './link_veth.js';
import './link_bridge.js';
import './link_vxlan.js';
import './link_macvlan.js';
import './link_dummy.js';

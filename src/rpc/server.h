/*
 * The RPC server: listening sockets, client connections, framing, the worker
 * pool and keepalive. It serves one program whose procedures come from the
 * shared table (protocol/remote_procs.tsv: numbers, types, access, priority)
 * plus the keepalive program, which the I/O thread answers itself so a busy
 * client never starves its own keepalive. What a call does is its owner's:
 * the server decodes, checks and hands each call to the VrtDispatch given at
 * creation (vrtd's is generated into daemon/), and knows no handler.
 *
 * Threads: one I/O thread runs the GMainContext given at creation (reads,
 * accepts, keepalive, high-priority procedures); a pool of worker threads runs
 * the others. Replies are queued on the client and written by whichever thread
 * finds the socket writable first.
 *
 * Memory: a client that does not read its replies stops being read once they
 * cost max_client_queued (backpressure, like libvirtd's max_client_requests),
 * so it blocks in its own send; the same holds daemon-wide at max_queued.
 * A client not read is also not read for keepalive PINGs, which would wait
 * behind its unread replies anyway; a client that reads is read again.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>
#include "rpc/transport.h"
#include "vrt_procs.h"

typedef struct _VrtRpcServer VrtRpcServer;
typedef struct _VrtTlsContext VrtTlsContext;

/* How a listener's clients authenticate, remote_auth_type's numbers: NONE
 * is served at once; SASL must finish AUTH_SASL_* (the daemon's handlers
 * call vrt_server_client_set_authenticated) before any call other than
 * AUTH_LIST and the AUTH_SASL ones, which are refused as libvirtd does
 * (VIR_ERR_RPC "authentication required"). */
typedef enum {
    VRT_RPC_AUTH_NONE = 0,
    VRT_RPC_AUTH_SASL = 1,
    VRT_RPC_AUTH_POLKIT = 2, /* a UNIX socket's: AUTH_POLKIT asks polkitd about the peer */
} VrtRpcAuth;
typedef struct _VrtServerClient VrtServerClient;
/* One call being served. */
typedef struct _VrtCall VrtCall;

/* Runs info's procedure for call with its decoded arguments (NULL for a
 * procedure without) and fills ret (zeroed, NULL for one without); false
 * with *error set when it failed, which the server sends as the reply.
 * Called on the I/O thread for a high-priority procedure, else on a worker. */
typedef bool (*VrtDispatch)(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, GError **error);

/* Limits, named where they are set; the daemon fills them from its config. */
typedef struct {
    guint max_clients; /* connections at once (default 5000) */
    /* clients still authenticating at once (libvirtd's max_anonymous_clients,
     * default 20; 0: no limit): beyond it new connections wait in the backlog */
    guint max_unauth_clients;
    guint max_workers; /* worker threads (default 20) */
    guint max_client_requests; /* calls of one client in the workers at once (default 5) */
    guint max_queued_requests; /* further calls of one client held before reading stops (default 1000) */
    /* Heap bytes one client's queued replies and held calls may cost before
     * vrtd stops reading it (default 1 MiB); what a queued message really
     * costs is counted (buffer, allocator headers, list node), not its size
     * on the wire. The client's further calls wait in the kernel's socket
     * buffers, then the client blocks. Its held calls go to the workers only
     * while its replies cost less, so it holds at most about twice this plus
     * the replies of its calls in the workers. */
    gsize max_client_queued;
    /* The same over all clients (default 32 MiB): past it, a client that has
     * anything queued stops being read until that is written or the total
     * falls below again. */
    gsize max_queued;
    int keepalive_interval; /* seconds between PINGs to an idle client; <= 0 disables */
    guint keepalive_count; /* unanswered PINGs before the client is dropped */
} VrtRpcServerLimits;

void vrt_rpc_server_limits_init(VrtRpcServerLimits *limits);

/* Called on the I/O thread when a client connects and when it goes away
 * (after its last call finished). */
typedef void (*VrtClientHook)(VrtServerClient *client, gpointer data);

VrtRpcServer *vrt_rpc_server_new(GMainContext *ctx, const VrtRpcServerLimits *limits, VrtDispatch dispatch,
                                 VrtClientHook on_connect, VrtClientHook on_close, gpointer data, GError **error);
/* Stops accepting, waits for calls in flight, flushes replies, closes all. */
void vrt_rpc_server_free(VrtRpcServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtRpcServer, vrt_rpc_server_free)

/* At max_clients connections the server stops accepting: further clients
 * wait in the listen backlog (their connect succeeds, their first call waits)
 * and are accepted when a client leaves, as libvirtd does. */

/* Listens on a UNIX socket at path with mode and group (gid -1: unchanged).
 * An existing stale socket file is replaced. */
bool vrt_rpc_server_add_unix(VrtRpcServer *server, const char *path, mode_t mode, gid_t gid, bool readonly,
                             GError **error);
/* Serves an already listening socket (systemd socket activation). */
bool vrt_rpc_server_add_fd(VrtRpcServer *server, int fd, bool readonly, GError **error);
/* Serves an already listening TCP socket (systemd socket activation of the
 * TLS or TCP socket): TLS when tls is given (not owned; it must outlive the
 * server), with auth. */
bool vrt_rpc_server_add_fd_remote(VrtRpcServer *server, int fd, VrtTlsContext *tls, VrtRpcAuth auth, GError **error);
/* Listens on TCP port of addr (NULL or "": every address), TLS when tls is
 * given (see vrt_rpc_server_add_fd_remote). A client whose TLS handshake or
 * certificate checks fail is logged and closed; the others go on. */
bool vrt_rpc_server_add_tcp(VrtRpcServer *server, const char *addr, guint port, VrtTlsContext *tls, VrtRpcAuth auth,
                            GError **error);
/* The authentication of read-write UNIX socket clients from now on (the
 * read-only socket's need none), as auth_unix_rw. */
void vrt_rpc_server_set_unix_auth(VrtRpcServer *server, VrtRpcAuth auth);
/* Runs high priority calls on workers too, as the check hook blocks
 * (polkit access control asks polkitd about every call); set before serving. */
void vrt_rpc_server_set_calls_on_workers(VrtRpcServer *server);
/* The same for the read-only UNIX socket's clients, as auth_unix_ro. */
void vrt_rpc_server_set_unix_ro_auth(VrtRpcServer *server, VrtRpcAuth auth);
/* Stops accepting new connections (first step of a shutdown). */
void vrt_rpc_server_stop_accepting(VrtRpcServer *server);
guint vrt_rpc_server_client_count(VrtRpcServer *server);
/* Heap bytes held by all clients' queued replies and calls (see max_queued). */
gsize vrt_rpc_server_queued_bytes(VrtRpcServer *server);

/* Clients */
VrtServerClient *vrt_server_client_ref(VrtServerClient *client);
void vrt_server_client_unref(VrtServerClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtServerClient, vrt_server_client_unref)
bool vrt_server_client_is_readonly(VrtServerClient *client);
/* The daemon's per-connection state; destroy runs when the client is freed. */
void vrt_server_client_set_data(VrtServerClient *client, gpointer data, GDestroyNotify destroy);
gpointer vrt_server_client_get_data(VrtServerClient *client);
/* The listener's VrtRpcAuth for this client. */
int vrt_server_client_get_auth(VrtServerClient *client);
/* Lets the client's other calls run (its authentication succeeded). */
void vrt_server_client_set_authenticated(VrtServerClient *client);
/* TLS or a UNIX socket: what SASL needs no security layer over. */
bool vrt_server_client_is_secure(VrtServerClient *client);
/* The TLS cipher's key size in bits, 0 without TLS. */
unsigned int vrt_server_client_tls_ssf(VrtServerClient *client);
int vrt_server_client_get_fd(VrtServerClient *client);
/* The peer's pid and uid from SO_PEERCRED; false when the client did not
 * come by a UNIX socket (or the kernel did not say). */
bool vrt_server_client_get_unix_identity(VrtServerClient *client, pid_t *pid, uid_t *uid);
/* The transport now (NULL: the plain socket), for a layer to wrap. */
VrtTransport *vrt_server_client_get_transport(VrtServerClient *client);
/* Makes layer (over the client's transport now, which stays the client's)
 * carry the connection once
 * the next frame queued for the client (the reply of the call that
 * finished the authentication, which goes in clear) is written. */
void vrt_server_client_push_layer(VrtServerClient *client, VrtTransport *layer);
/* Starts server-side keepalive PINGs (after the client said it answers them). */
void vrt_server_client_enable_keepalive(VrtServerClient *client);
/* Sends an event message (type MESSAGE, serial 0) of the remote program.
 * Safe from any thread; false when the client is gone or the queue is full. */
bool vrt_server_client_send_event(VrtServerClient *client, int proc, xdrproc_t filter, const void *msg);
/* The same for program prog of version vers (the QEMU program's monitor events). */
bool vrt_server_client_send_program_event(VrtServerClient *client, unsigned int prog, unsigned int vers, int proc,
                                          xdrproc_t filter, const void *msg);

/* Calls: what a handler knows of the call it serves. */
VrtServerClient *vrt_call_get_client(VrtCall *call);
/* The origin (libvirt's VIR_FROM_*) of the call's error if it fails, in
 * place of its procedure's: libvirt reports some refusals from the module
 * that made them (polkit's VIR_FROM_POLKIT, which virsh reads to start its
 * polkit agent, the access manager's VIR_FROM_ACCESS). */
void vrt_call_set_error_origin(VrtCall *call, int origin);

/* Runs before every call's handler (on the thread that will run it), with
 * the decoded arguments (NULL for a procedure without); false with *error
 * refuses the call (e.g. "connection not open"). */
typedef bool (*VrtCallCheck)(VrtCall *call, const VrtProcInfo *info, const void *args, gpointer data, GError **error);
void vrt_rpc_server_set_call_check(VrtRpcServer *server, VrtCallCheck check, gpointer data);

/* Whether a read-only connection may make info's call (args: its decoded
 * arguments, or NULL before they are decoded): false with libvirt's
 * VIR_ERR_OPERATION_DENIED and message in *error for a procedure that
 * needs write access, or a flag of args that needs it or reveals secrets.
 * The table (vrt_proc_readonly_verdict) decides; this words the refusal. */
bool vrt_rpc_readonly_check(const VrtProcInfo *info, const void *args, GError **error);

/* Whether info's call accepts the flags of args (its decoded arguments): false
 * with libvirt's VIR_ERR_INVALID_ARG "unsupported flags (0x%x) in function %s"
 * in *error for a bit libvirt's driver does not accept (remote_flags.tsv).
 * Every call runs it after the call check and before its handler. */
bool vrt_rpc_flags_check(const VrtProcInfo *info, const void *args, GError **error);

/* The admin interface (daemon/remote_admin.c). Except where said, these run
 * on the I/O thread, where vrtd runs every admin call. */

/* How a client reached the server: libvirt's virClientTransport numbers. */
typedef enum {
    VRT_RPC_TRANSPORT_UNIX = 0,
    VRT_RPC_TRANSPORT_TCP = 1,
    VRT_RPC_TRANSPORT_TLS = 2,
} VrtRpcTransportKind;

/* Listens on the admin socket at path (mode 0700, no authentication): its
 * clients may call the admin program and nothing else, which no other
 * client may call. */
bool vrt_rpc_server_add_admin_unix(VrtRpcServer *server, const char *path, GError **error);
/* The clients of the admin socket (admin) or of the others, each a
 * reference (free with g_list_free_full and vrt_server_client_unref). */
GList *vrt_rpc_server_ref_clients(VrtRpcServer *server, bool admin);

typedef struct {
    guint64 id; /* unique in the server, from 1 */
    gint64 timestamp; /* when it connected, seconds since the epoch */
    int transport; /* VrtRpcTransportKind */
    bool readonly;
    bool admin;
    bool authenticated;
    pid_t pid; /* a UNIX socket's peer, else -1 (uid, gid: (uid_t)-1) */
    uid_t uid;
    gid_t gid;
    char *sock_addr; /* a TCP peer's "HOST;PORT", else NULL; the caller frees it */
} VrtServerClientAdminInfo;

void vrt_server_client_get_admin_info(VrtServerClient *client, VrtServerClientAdminInfo *info);
/* Drops the connection on the I/O thread's next turn (any thread): its
 * peer reads EOF; its calls in the workers finish unanswered. */
void vrt_server_client_close(VrtServerClient *client);

typedef struct {
    guint max_workers;
    guint n_workers; /* threads alive */
    guint free_workers; /* of them, those running no call */
    guint job_queue_depth; /* calls waiting for a thread */
} VrtRpcServerWorkers;

void vrt_rpc_server_get_workers(VrtRpcServer *server, VrtRpcServerWorkers *workers);
/* Changes max_workers at run time (threads above it end after their call). */
bool vrt_rpc_server_set_max_workers(VrtRpcServer *server, guint max_workers, GError **error);
/* Clients of the sockets other than the admin one, and those of them not
 * yet authenticated. */
void vrt_rpc_server_get_client_counts(VrtRpcServer *server, guint *nclients, guint *nclients_unauth);
guint vrt_rpc_server_get_max_clients(VrtRpcServer *server);
/* Changes max_clients at run time; accepting stops or starts at once. */
void vrt_rpc_server_set_max_clients(VrtRpcServer *server, guint max_clients);
guint vrt_rpc_server_get_max_unauth_clients(VrtRpcServer *server);
/* Changes max_unauth_clients at run time (I/O thread); accepting stops or starts at once. */
void vrt_rpc_server_set_max_unauth_clients(VrtRpcServer *server, guint max_unauth_clients);

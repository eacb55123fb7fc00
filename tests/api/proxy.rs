//! A TCP proxy the tests put between the service and PostgreSQL, to break the database's
//! network at will: [`Proxy::cut`] closes every open connection and refuses new ones (a database
//! that went away), [`Proxy::stall`] keeps connections open but forwards nothing (a database
//! that hangs), [`Proxy::restore`] lets everything through again.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

struct Shared {
    up: AtomicBool,
    stalled: AtomicBool,
    stopping: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

/// A proxy listening on a loopback port, forwarding to one target.
pub struct Proxy {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts forwarding `127.0.0.1:<some port>` to `target`.
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("the bound address");
        let shared = Arc::new(Shared {
            up: AtomicBool::new(true),
            stalled: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if !accepting.up.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let mut open = accepting.open.lock().unwrap();
                for stream in [&client, &server] {
                    if let Ok(clone) = stream.try_clone() {
                        open.push(clone);
                    }
                }
                drop(open);
                pipe(&client, &server, Arc::clone(&accepting));
                pipe(&server, &client, Arc::clone(&accepting));
            }
        });
        Proxy { address, shared }
    }

    /// The address to connect to instead of the target.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Breaks every open connection and refuses new ones, like a database that went away.
    pub fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for stream in self.shared.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Keeps every connection open but forwards nothing, like a database that hangs.
    pub fn stall(&self) {
        self.shared.stalled.store(true, Ordering::SeqCst);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.shared.stalled.store(false, Ordering::SeqCst);
        self.shared.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accepting thread so it sees the flag and ends.
        let _ = TcpStream::connect(self.address);
    }
}

/// Copies bytes from `from` to `to` on a thread until either side closes, holding them back
/// while the proxy is stalled.
fn pipe(from: &TcpStream, to: &TcpStream, shared: Arc<Shared>) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    while shared.stalled.load(Ordering::SeqCst) {
                        thread::sleep(std::time::Duration::from_millis(10));
                    }
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

//! Every figure rtas did not measure itself, in one place: the paper's published numbers and the other
//! systems' measurements it is compared with. Report and tables text take their numbers from the run or
//! from here, never from prose.

/// A published or externally measured figure.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// Where it comes from.
    pub source: &'static str,
    /// The workload.
    pub what: &'static str,
    /// The value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
}

const fn r(source: &'static str, what: &'static str, value: f64, unit: &'static str) -> Reference {
    Reference { source, what, value, unit }
}

/// CrypTen 0.4.1 (2PC with its trusted dealer), measured on a machine of this kind: logistic regression,
/// one training step of batch 32, bytes between the two parties.
pub const CRYPTEN_LOGREG_STEP_P0_P1: Reference =
    r("CrypTen 0.4.1 (measured)", "logreg train step, batch 32, P0<->P1", 856_576.0, "B");
/// The same step, bytes from CrypTen's dealer.
pub const CRYPTEN_LOGREG_STEP_DEALER: Reference =
    r("CrypTen 0.4.1 (measured)", "logreg train step, dealer", 223e3, "B");
/// CrypTen, the paper's CNN, one training step of batch 32, bytes between the parties.
pub const CRYPTEN_CNN_STEP_P0_P1: Reference =
    r("CrypTen 0.4.1 (measured)", "CNN train step, batch 32, P0<->P1", 18.2e6, "B");
/// CrypTen, the CNN, inference of 8192 images, bytes between the parties.
pub const CRYPTEN_CNN_INFER_P0_P1: Reference =
    r("CrypTen 0.4.1 (measured)", "CNN inference, 8192 images, P0<->P1", 3.45e9, "B");
/// The same inference, bytes from the dealer.
pub const CRYPTEN_CNN_INFER_DEALER: Reference =
    r("CrypTen 0.4.1 (measured)", "CNN inference, 8192 images, dealer", 925e6, "B");
/// The batch size of the CrypTen inference figures.
pub const CRYPTEN_INFER_BATCH: usize = 8192;

/// Wall time of real processes over sockets, measured on another machine of this kind (issue 13):
/// (system, workload as `model phase`, seconds as printed).
pub const MEASURED_WALL: [(&str, &str, &str); 6] = [
    ("CrypTen 0.4.1", "logreg train", "0.141"),
    ("MP-SPDZ dealer-ring", "logreg train", "0.0059-0.0256"),
    ("CrypTen 0.4.1", "cnn train", "0.402"),
    ("MP-SPDZ dealer-ring", "cnn train", "0.354-0.436"),
    ("CrypTen 0.4.1", "cnn infer", "20.7"),
    ("MP-SPDZ dealer-ring", "cnn infer", "67.5"),
];

/// The paper's Table 4: RTAS CNN inference traffic for a batch of 8192 images, in the paper's "Mb".
pub const PAPER_RTAS_CNN_INFER_MB: Reference = r("RTAS paper, Table 4", "CNN inference, 8192 images", 10.23, "Mb");

/// The bytes of 8192 MNIST images at 8 bits a pixel, in megabits: what any protocol must at least move to
/// share them.
pub fn mnist_images_megabits(images: usize) -> f64 {
    (images * 784 * 8) as f64 / 1e6
}

/// The published rows of the paper's Tables 2-4 and the reference systems, as `rtas tables` prints them:
/// (table, system, row, value as printed).
pub const PUBLISHED: [(u8, &str, &str, &str); 21] = [
    (3, "CryptoNets", "LAN infer", "55.21"),
    (3, "SecureNN", "LAN infer", "122.61±1.01"),
    (3, "RTAS (paper)", "LAN infer", "10.61±0.12"),
    (3, "SecureNN", "LAN train", "0.38±0.01"),
    (3, "RTAS (paper)", "LAN train", "0.54±0.00"),
    (3, "CryptoNets", "WAN infer", "55.21+100"),
    (3, "SecureNN", "WAN infer", "6981±231"),
    (3, "RTAS (paper)", "WAN infer", "212.15±0.89"),
    (3, "SecureNN", "WAN train", "31.64±0.78"),
    (3, "RTAS (paper)", "WAN train", "3.25±0.09"),
    (4, "SecureNN", "train", "22632"),
    (4, "RTAS (paper)", "train", "333.6"),
    (4, "CryptoNets", "infer", "294"),
    (4, "SecureNN", "infer", "1052.33"),
    (4, "RTAS (paper)", "infer", "10.23"),
    (2, "CrypTen 0.4.1 (measured, 2PC + dealer)", "train", "6.85 Mb between parties + 1.78 Mb from the dealer"),
    (2, "MP-SPDZ dealer-ring (measured)", "train", "~7.7 Mb + ~1.0 Mb from the dealer"),
    (4, "CrypTen 0.4.1 (measured)", "train", "145.6 Mb (18.2 MB)"),
    (4, "CrypTen 0.4.1 (measured)", "infer", "27600 Mb + 7400 Mb (3.45 GB + 925 MB)"),
    (4, "MP-SPDZ dealer-ring (measured)", "train", "~328 Mb (~41 MB)"),
    (4, "MP-SPDZ dealer-ring (measured)", "infer", "~46700 Mb (5.84 GB)"),
];

/// A byte count for people: `856.6 KB`, `3.45 GB`.
pub fn bytes(b: f64) -> String {
    match b {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} KB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

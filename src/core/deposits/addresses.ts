/**
 * BIP84 receive addresses (native SegWit, P2WPKH, bech32) from an operator's account-level
 * extended public key: the broker derives `0/i` and never holds a private key. Derivation is the
 * audited @scure/bip32; the key's version bytes (SLIP-132) say which network it belongs to, and
 * a key of another network than the coin's is refused, so no address of a wrong network is made.
 */
import { HDKey } from '@scure/bip32';
import { bech32, createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { invalid } from '../errors.js';
import type { Coin } from './port.js';

const base58check = createBase58check(sha256);

interface Network {
  /** Human-readable part of its bech32 addresses. */
  hrp: string;
  testnet: boolean;
}

const NETWORKS: Record<Coin, { main: Network; test: Network }> = {
  btc: { main: { hrp: 'bc', testnet: false }, test: { hrp: 'tb', testnet: true } },
  ltc: { main: { hrp: 'ltc', testnet: false }, test: { hrp: 'tltc', testnet: true } },
};

/** The public version bytes an account key of each coin may carry, with its private twin (needed to parse it). */
const VERSIONS: Record<Coin, Record<string, { pub: number; prv: number; testnet: boolean }>> = {
  btc: {
    xpub: { pub: 0x0488b21e, prv: 0x0488ade4, testnet: false },
    zpub: { pub: 0x04b24746, prv: 0x04b2430c, testnet: false },
    tpub: { pub: 0x043587cf, prv: 0x04358394, testnet: true },
    vpub: { pub: 0x045f1cf6, prv: 0x045f18bc, testnet: true },
  },
  ltc: {
    Ltub: { pub: 0x019da462, prv: 0x019d9cfe, testnet: false },
    zpub: { pub: 0x04b24746, prv: 0x04b2430c, testnet: false },
    xpub: { pub: 0x0488b21e, prv: 0x0488ade4, testnet: false },
    ttub: { pub: 0x0436f6e1, prv: 0x0436ef7d, testnet: true },
    vpub: { pub: 0x045f1cf6, prv: 0x045f18bc, testnet: true },
    tpub: { pub: 0x043587cf, prv: 0x04358394, testnet: true },
  },
};

/** BIP32's limit: non-hardened children are 0 … 2^31 − 1. */
export const MAX_ADDRESS_INDEX = 0x7fffffff;

export class AddressBook {
  private readonly receive: HDKey;
  readonly network: Network;

  constructor(
    readonly coin: Coin,
    extendedKey: string,
  ) {
    const key = extendedKey.trim();
    let version: number;
    try {
      const bytes = base58check.decode(key);
      if (bytes.length !== 78) throw new Error('length');
      version = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    } catch {
      throw invalid(`deposits.${coin}.xpub is not an extended public key (base58check).`);
    }
    const kind = Object.entries(VERSIONS[coin]).find(([, v]) => v.pub === version);
    if (!kind) {
      const known = Object.keys(VERSIONS[coin]).join(', ');
      throw invalid(`deposits.${coin}.xpub is not a public key of ${coin.toUpperCase()} (expected one of ${known}; never a private key).`);
    }
    const [, v] = kind;
    const account = HDKey.fromExtendedKey(key, { public: v.pub, private: v.prv });
    // An account key (m/84'/coin'/account') is three levels down; a root or an address key would give other addresses.
    if (account.depth !== 3) throw invalid(`deposits.${coin}.xpub must be an account-level key (depth 3, m/84'/…'/…'), not depth ${account.depth}.`);
    this.network = v.testnet ? NETWORKS[coin].test : NETWORKS[coin].main;
    this.receive = account.deriveChild(0);
  }

  /** The receive address `0/index`. */
  address(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index > MAX_ADDRESS_INDEX) throw invalid(`Address index ${index} is out of range.`);
    const hash = this.receive.deriveChild(index).pubKeyHash;
    if (!hash) throw new Error('derivation gave no public key');
    // Witness version 0, then the 20-byte key hash: P2WPKH.
    return bech32.encode(this.network.hrp, [0, ...bech32.toWords(hash)]);
  }

  /** The payment URI a wallet opens (BIP21; Litecoin's wallets read the same form). */
  uri(address: string): string {
    return `${this.coin === 'btc' ? 'bitcoin' : 'litecoin'}:${address}`;
  }
}

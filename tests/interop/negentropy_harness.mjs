// Line-protocol harness around the Negentropy class of @nostr-dev-kit/sync, an independent
// implementation of Negentropy v1. It speaks what `python -m federation.negentropy` speaks:
//   stdin:  item,TIMESTAMP,IDHEX | seal | initiate | msg,HEX
//   stdout: msg,HEX | have,IDHEX | need,IDHEX | done
// FRAMESIZELIMIT in the environment sets the frame size limit. Any error: one line on
// stderr, exit status 1.
import readline from "node:readline";
import {
  Negentropy,
  NegentropyStorage,
  hexToUint8Array,
  uint8ArrayToHex,
} from "@nostr-dev-kit/sync";

const frameSizeLimit = Number.parseInt(process.env.FRAMESIZELIMIT || "0", 10);
const storage = new NegentropyStorage();
let session = null;
let isInitiator = false;

function send(message) {
  if (frameSizeLimit && message.length > frameSizeLimit) {
    throw new Error(`frame size limit exceeded: ${message.length} > ${frameSizeLimit}`);
  }
  process.stdout.write(`msg,${uint8ArrayToHex(message)}\n`);
}

const commands = {
  item(fields) {
    if (fields.length !== 3) throw new Error("item needs TIMESTAMP,IDHEX");
    storage.insert(Number.parseInt(fields[1], 10), fields[2].trim());
  },
  seal() {
    storage.seal();
    session = new Negentropy(storage, frameSizeLimit);
  },
  async initiate() {
    isInitiator = true;
    send(await session.initiate());
  },
  async msg(fields) {
    const { nextMessage, have, need } = await session.reconcile(hexToUint8Array(fields[1] || ""));
    if (!isInitiator) return send(nextMessage);
    const lines = [
      ...have.map((id) => `have,${uint8ArrayToHex(id)}`),
      ...need.map((id) => `need,${uint8ArrayToHex(id)}`),
    ];
    if (lines.length) process.stdout.write(`${lines.join("\n")}\n`);
    if (nextMessage === undefined) process.stdout.write("done\n");
    else send(nextMessage);
  },
};

async function handle(line) {
  const fields = line.split(",");
  if (!fields[0].trim()) return;
  const command = commands[fields[0].trim()];
  if (!command) throw new Error(`unknown command: ${fields[0]}`);
  await command(fields);
}

function fail(error) {
  process.stderr.write(`negentropy js harness: ${error.message}\n`);
  process.exit(1);
}

// The library's calls are async; chain the lines so each is handled after the one before.
let queue = Promise.resolve();
const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  queue = queue.then(() => handle(line)).catch(fail);
});
lines.on("close", () => {
  queue.then(() => process.exit(0));
});

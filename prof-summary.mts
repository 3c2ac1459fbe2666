import { readFileSync } from "node:fs";
import { summarizeProfile } from "./test/bench/cpu-profile.ts";
const profile = JSON.parse(readFileSync(process.argv[2], "utf8"));
const s = summarizeProfile(profile, Number(process.argv[3] ?? 1));
console.log(s.places.join("\n")); console.log("---"); console.log(s.functions.slice(0, 45).join("\n"));

// Seeded simulations of the ensemble, part 3 of 4: see simulationPart in seeds.ts.
import { simulationPart } from "./seeds.ts";

simulationPart(3);
